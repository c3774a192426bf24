-- wrk script: exact searches by e-mail through the admin API
-- (POST /api/v1/supporters/search with an API token), each for a supporter
-- that exists: the e-mails come from BENCH_EMAILS, a file of one e-mail a line
-- written by `rempart_bench emails` for the synthetic base being searched.
-- The token comes from BENCH_TOKEN. The summary line comes from
-- wrk_common.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local common = require("wrk_common")
setup = common.setup
done = common.done
delay = common.delay

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
