-- wrk script for bench/pos_redeem.py and bench/till_day.py: a distinct number per request.
-- wrk -s pos_wrk.lua URL -- <path> <token> <store> <first number> <numbers> <threads> [key]
-- Thread k sends numbers first+k, first+k+threads, ... so no two requests carry the same code.
-- With "key", each request carries an Idempotency-Key named after its code (a second run replays).
-- The path says the request: a coupon's validate or redeem (the number names the code and its member),
-- /api/v1/transactions (a 20-line basket, the number names the transaction and the member) or
-- /api/v1/members/ (a GET of member B<number mod 1000>'s offers, page_size=500, pages 1 and 2 in turn).

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_common.lua")

function init(args)
  common.init(args)
  path, keyed = args[1], args[7] == "key"
end

local function basket(n)
  -- 20 lines: two SKUs that live offers reward (SKU-0 … SKU-9), eighteen that none does
  local lines = {}
  for line = 0, 19 do
    local sku = line < 2 and string.format("SKU-%d", (n + line) % 10) or string.format("PLAIN-%d", line)
    table.insert(lines, string.format('{"sku":"%s","quantity":1,"unit_price":"2.50"}', sku))
  end
  return table.concat(lines, ",")
end

function request()
  local n = first + common.next_number()
  if path == "/api/v1/members/" then
    return wrk.format("GET", string.format("%sB%07d/offers?page_size=500&page=%d", path, n % 1000, 1 + sent % 2))
  end
  local body
  if path == "/api/v1/transactions" then
    body = string.format('{"transaction_id":"DAY-%d","member":"B%07d","store":"%s","total_amount":"50.00",' ..
      '"items":[%s]}', n, n, store, basket(n))
  else
    body = string.format('{"code":"BENCH%08d","member":"B%07d","store":"%s","bill_amount":"42.00"}', n, n, store)
  end
  local headers = keyed and common.with_key(string.format("till-%08d", n)) or nil
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
