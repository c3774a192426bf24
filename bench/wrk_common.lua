-- What the wrk scripts of bench/ share: a number per thread (`tid`, so each
-- thread makes different requests) and the summary done() prints as one
-- JSON line that bench/run.py reads. Loaded with require() from the
-- scripts' own directory, whatever the working directory.
local M = {}

local counter = 1

function M.setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

-- BENCH_DELAY_MS=D: each connection waits D ms before each request (a
-- paced load, for bench/soak.sh); unset, wrk sends as fast as it can.
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  function M.delay()
    return pause
  end
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"wrk": true, "requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end

return M
