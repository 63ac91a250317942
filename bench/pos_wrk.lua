-- wrk script for bench/pos_redeem.py: POST a distinct coupon code per request.
-- wrk -s pos_wrk.lua URL -- <path> <token> <store> <first code number> <codes> <threads> [key]
-- Thread k sends codes first+k, first+k+threads, ... so no two requests carry the same code.
-- With "key", each request carries an Idempotency-Key named after its code (a second run replays).

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

function request()
  local n = id + stride * sent
  sent = sent + 1
  if n >= limit then
    -- Out of codes: the run was longer than the codes allow; counted apart so the figures stay honest.
    n = limit
  end
  n = first + n
  local body = string.format('{"code":"BENCH%08d","member":"B%07d","store":"%s","bill_amount":"42.00"}', n, n, store)
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
