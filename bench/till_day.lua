-- wrk script for bench/till_day.py: one kind of till request per wrk process.
-- wrk -s till_day.lua URL -- <kind> <token> <store> <first number> <numbers> <threads>
-- kinds: validate, redeem (an Idempotency-Key on each), transaction (a 20-line basket), offers (a member's
-- offers, page_size=500, pages 1 and 2 in turn). Thread k takes numbers first+k, first+k+threads, ... so no
-- two redeems carry the same code and no two purchases the same transaction id.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  kind, token, store = args[1], args[2], args[3]
  first, limit, stride = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  sent, statuses = 0, {}
  wrk.headers["Authorization"] = "Token " .. token
  wrk.headers["Content-Type"] = "application/json"
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
  local n = id + stride * sent
  sent = sent + 1
  if n >= limit then
    n = limit  -- out of numbers: the run was longer than they allow; the Python side refuses such a run
  end
  local number = first + n
  if kind == "offers" then
    return wrk.format("GET", string.format("/api/v1/members/B%07d/offers?page_size=500&page=%d", number % 1000,
      1 + sent % 2))
  end
  local path, body = "/api/v1/coupons/validate", nil
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  if kind == "transaction" then
    path = "/api/v1/transactions"
    body = string.format('{"transaction_id":"DAY-%d","member":"B%07d","store":"%s","total_amount":"50.00",' ..
      '"items":[%s]}', number, number, store, basket(number))
  else
    body = string.format('{"code":"BENCH%08d","member":"B%07d","store":"%s","bill_amount":"42.00"}', number,
      number, store)
    if kind == "redeem" then
      path = "/api/v1/coupons/redeem"
      headers["Idempotency-Key"] = string.format("day-%08d", number)
    end
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end
