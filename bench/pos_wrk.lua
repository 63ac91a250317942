-- wrk script for bench/pos_redeem.py and bench/till_day.py: a distinct number per request.
-- wrk -s pos_wrk.lua URL -- <path> <token> <store> <first number> <numbers> <threads> [key]
-- Thread k sends numbers first+k, first+k+threads, ... so no two requests carry the same code.
-- With "key", each request carries an Idempotency-Key named after its code (a second run replays).
-- The path says the request: a coupon's validate or redeem (the number names the code and its member),
-- /api/v1/transactions (a 20-line basket, the number names the transaction and the member) or
-- /api/v1/members/ (a GET of member B<number mod 1000>'s offers, page_size=500, pages 1 and 2 in turn).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  path, token, store = args[1], args[2], args[3]
  first, limit, stride = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  keyed = args[7] == "key"
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
    -- Out of codes: the run was longer than the codes allow; counted apart so the figures stay honest.
    n = limit
  end
  n = first + n
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
  local headers = nil
  if keyed then
    -- wrk.format takes these headers instead of wrk.headers, not in addition to them
    headers = {["Idempotency-Key"] = string.format("till-%08d", n)}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
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
