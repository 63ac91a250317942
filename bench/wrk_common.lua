-- What bench/pos_wrk.lua and bench/baskets_wrk.lua share; each loads it with
--   local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_common.lua")
-- It defines wrk's setup() and done() (every thread's statuses merged into the one RESULT line the Python side
-- reads) and returns the helpers of init() and request().

local common = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function common.init(args)
  -- Both scripts take <what> <token> <store> <first> <limit> <threads> first; <what> and the rest are their own.
  store = args[3]
  first, limit, stride = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  sent, statuses = 0, {}
  wrk.headers["Authorization"] = "Token " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
end

function common.next_number()
  -- Thread k takes k, k + threads, k + 2 * threads, ... so no two requests carry the same number. Past <limit> (a
  -- run longer than its numbers allow) it sends the limit itself, which the Python side counts apart.
  local n = id + stride * sent
  sent = sent + 1
  if n >= limit then
    n = limit
  end
  return n
end

function common.with_key(key)
  -- wrk.format takes these headers instead of wrk.headers, not in addition to them
  local headers = {["Idempotency-Key"] = key}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  return headers
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
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end

return common
