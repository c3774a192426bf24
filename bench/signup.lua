-- wrk script: every request posts a different supporter to the OSDI person
-- signup helper (unique e-mail from the thread number and a counter; one in
-- six with a phone in a block reserved for fiction). The shape matches
-- representative_signup() in inprocess.cpp. done() prints one JSON line that
-- bench/run.py reads.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  prefix = os.getenv("BENCH_PREFIX") or "w"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  local phone = ""
  if n % 6 == 0 then
    phone = string.format('"phone_numbers":[{"number":"+3319900%04d"}],', (n + tid * 5000) % 10000)
  end
  local body = string.format(
    '{"person":{"given_name":"Camille","family_name":"Martin",' ..
    '"email_addresses":[{"address":"camille.martin.%s%d.%d@example.org"}],%s' ..
    '"postal_addresses":[{"postal_code":"75011","locality":"Paris","country":"FR"}]},' ..
    '"add_tags":["bench"],"consent":{"email":true}}', prefix, tid, n, phone)
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
