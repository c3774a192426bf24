-- wrk script: exact searches by e-mail through the admin API
-- (POST /api/v1/supporters/search with an API token), each for a supporter
-- that exists: the e-mails come from BENCH_EMAILS, a file of one e-mail a line
-- written by `rempart_bench emails` for the synthetic base being searched.
-- The token comes from BENCH_TOKEN. done() prints one JSON line that
-- bench/run.py reads (the same shape as signup.lua's).
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = tid * 7919
  emails = {}
  local f = assert(io.open(os.getenv("BENCH_EMAILS"), "r"))
  for line in f:lines() do
    if #line > 0 then table.insert(emails, line) end
  end
  f:close()
  assert(#emails > 0, "no e-mails to search for")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
  n = n + 1
  local body = string.format('{"kind":"email","value":"%s"}', emails[(n % #emails) + 1])
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"wrk": true, "requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
