-- wrk script for bench/baskets.py: the till's basket phases, a distinct number per request (or per pair).
-- wrk -s baskets_wrk.lua URL -- <mode> <token> <store> <first> <limit> <threads> <members> <member first>
-- Thread k takes numbers k, k+threads, k+2*threads, ... below <limit>, offset by <first>; past the limit it sends
-- the limit itself, which bench/baskets.py then reports as a run too long for its data.
-- Modes:
--   bare          the bare DRF redeem view: code BARE<n>, member B<n>
--   evaluate      a 30-line basket with the member's three coupons, member B<member first + n mod members>
--   pairs         POST /checkouts (transaction BT-<n>, member B<n>, its three coupons), then, on the same
--                 connection, POST /checkouts/{id}/commit with Idempotency-Key commit-BT-<n>: one connection per
--                 wrk thread (-t = -c), so response() of the opening always precedes the request() of its commit
--   transactions  POST /transactions of the evaluate basket's first 20 lines, transaction PT-<n>,
--                 member B<n mod members>

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_common.lua")

function init(args)
  common.init(args)
  mode = args[1]
  members, member_first = tonumber(args[7]), tonumber(args[8])
  opened = nil
end

local CATALOGUE = 900

local function lines(count)
  -- bench/baskets.py's lines(): the same 30 lines for every basket
  local parts = {}
  for n = 0, count - 1 do
    table.insert(parts, string.format('{"line_ref":"%d","sku":"SKU-%d","quantity":%d,"unit_price":"%d.49"}',
      n, n * 37 % CATALOGUE, 1 + n % 3, 2 + n % 9))
  end
  return table.concat(parts, ",")
end

local function items(count)
  local parts, total = {}, 0
  for n = 0, count - 1 do
    local quantity, price = 1 + n % 3, 2 + n % 9 + 0.49
    total = total + quantity * price
    table.insert(parts, string.format('{"sku":"SKU-%d","quantity":%d,"unit_price":"%.2f"}',
      n * 37 % CATALOGUE, quantity, price))
  end
  return table.concat(parts, ","), total
end

local BASKET_LINES = lines(30)
local PURCHASE_ITEMS, PURCHASE_TOTAL = items(20)

local function coupons(member)
  return string.format('"BSK%07d0","BSK%07d1","BSK%07d2"', member, member, member)
end

function request()
  if mode == "pairs" and opened then
    local checkout, number = opened[1], opened[2]
    opened = nil
    return wrk.format("POST", string.format("/api/v1/checkouts/%s/commit", checkout),
      common.with_key(string.format("commit-BT-%d", number)), "")
  end
  local n = common.next_number()
  local body
  if mode == "bare" then
    return wrk.format("POST", "/api/v1/bench/bare-redeem", nil, string.format(
      '{"code":"BARE%08d","member":"B%07d","store":"%s","bill_amount":"42.00"}', first + n, first + n, store))
  elseif mode == "evaluate" then
    local member = member_first + (first + n) % members
    return wrk.format("POST", "/api/v1/baskets/evaluate", nil, string.format(
      '{"member":"B%07d","store":"%s","lines":[%s],"coupon_codes":[%s]}', member, store, BASKET_LINES,
      coupons(member)))
  elseif mode == "pairs" then
    local member = first + n
    pending = member
    return wrk.format("POST", "/api/v1/checkouts", nil, string.format(
      '{"member":"B%07d","store":"%s","transaction_id":"BT-%d","lines":[%s],"coupon_codes":[%s]}',
      member, store, member, BASKET_LINES, coupons(member)))
  else
    return wrk.format("POST", "/api/v1/transactions", nil, string.format(
      '{"transaction_id":"PT-%d","member":"B%07d","store":"%s","total_amount":"%.2f","items":[%s]}',
      first + n, member_first + (first + n) % members, store, PURCHASE_TOTAL, PURCHASE_ITEMS))
  end
end

function response(status, headers, body)
  local kind = ""
  if mode == "pairs" then
    if pending then
      kind = "open "
      if status == 201 then
        opened = {string.match(body, '"id":%s*(%d+)'), pending}
      end
      pending = nil
    else
      kind = "commit "
    end
  end
  local name = kind .. status
  statuses[name] = (statuses[name] or 0) + 1
end
