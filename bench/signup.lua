-- wrk script: every request posts a different supporter to the OSDI person
-- signup helper (unique e-mail from the thread number and a counter; one in
-- six with a phone in a block reserved for fiction). The shape matches
-- representative_signup() in bench/. The summary line comes from wrk_common.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local common = require("wrk_common")
setup = common.setup
done = common.done
delay = common.delay

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
