-- wrk script: console staff, one signed-in account per connection, each
-- cycling over the pages staff open every day: the supporter list's first
-- page, the dashboard, the saved segments (each counted), the search form,
-- the call lists, and a name search (POST /search, kind=find, a family name
-- the synthetic base holds).
--
-- Run with as many threads as connections (-tN -cN): wrk's script runs per
-- thread, not per connection, so each thread holds one session and times
-- its own requests, which then follow each other one at a time.
-- BENCH_SESSIONS: a file of one "COOKIE CSRF" line per session, written by
--   `bench/console_staff.py signin` (at least as many lines as threads);
-- BENCH_PAGES: the pages to cycle over, comma-separated names from the table
--   below (all by default);
-- BENCH_DELAY_MS: each connection's pause before each request (a person
--   reading the page), from wrk_common.lua.
-- done() prints wrk_common's summary line for the mix, then one JSON line a
-- page with its own count, non-200 answers and percentiles (timed from the
-- request's making to its answer with LuaJIT's ffi and CLOCK_MONOTONIC).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local common = require("wrk_common")
local ffi = require("ffi")
delay = common.delay

ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *out);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local all_pages = {
  { name = "supporters", method = "GET", path = "/supporters" },
  { name = "dashboard", method = "GET", path = "/dashboard" },
  { name = "segments", method = "GET", path = "/segments" },
  { name = "search_form", method = "GET", path = "/search" },
  { name = "calls", method = "GET", path = "/calls" },
  { name = "name_search", method = "POST", path = "/search" },
}

-- ASCII family names of src/services/synth.cpp (every one is on thousands
-- of records of a synth base), so the form body needs no percent-encoding.
local families = { "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
  "Moreau", "Simon", "Laurent", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
  "Girard", "Mercier", "Dupont", "Lambert", "Bonnet", "Martinez", "Diallo", "Benali", "Nguyen", "Haddad",
  "Rousseau", "Blanc", "Muller", "Henry", "Chevalier" }

local function selected()
  local want = os.getenv("BENCH_PAGES") or ""
  if want == "" then return all_pages end
  local out = {}
  for name in want:gmatch("[^,]+") do
    local found = false
    for _, p in ipairs(all_pages) do
      if p.name == name then
        table.insert(out, p)
        found = true
      end
    end
    assert(found, "BENCH_PAGES: no page named " .. name)
  end
  return out
end
local pages = selected()

local sessions = nil
local threads = {}

function setup(thread)
  common.setup(thread)
  if sessions == nil then
    sessions = {}
    local f = assert(io.open(assert(os.getenv("BENCH_SESSIONS"), "BENCH_SESSIONS is not set"), "r"))
    for line in f:lines() do
      local cookie, csrf = line:match("^(%S+) (%S+)$")
      if cookie then table.insert(sessions, { cookie = cookie, csrf = csrf }) end
    end
    f:close()
  end
  local n = #threads + 1
  assert(sessions[n], "fewer sessions than threads")
  thread:set("cookie", sessions[n].cookie)
  thread:set("csrf", sessions[n].csrf)
  table.insert(threads, thread)
end

function init(args)
  get_headers = { Cookie = "rempart_session=" .. cookie }
  post_headers = { Cookie = "rempart_session=" .. cookie, ["Content-Type"] = "application/x-www-form-urlencoded" }
  -- Each thread starts at another page and another name.
  at = tid % #pages
  searches = tid * 7
  started = 0
  current = 1
  for i = 1, #pages do
    _G["lat" .. i] = {}
  end
  bad = {}
  for i = 1, #pages do bad[i] = 0 end
end

function request()
  at = at % #pages + 1
  current = at
  local p = pages[at]
  local req
  if p.method == "POST" then
    searches = searches + 1
    local body = "kind=find&name=" .. families[searches % #families + 1] .. "&place=&csrf=" .. csrf
    req = wrk.format("POST", p.path, post_headers, body)
  else
    req = wrk.format("GET", p.path, get_headers)
  end
  started = now_us()
  return req
end

function response(status, headers, body)
  local t = _G["lat" .. current]
  t[#t + 1] = math.floor(now_us() - started + 0.5)
  if status ~= 200 then bad[current] = bad[current] + 1 end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  local i = math.ceil(#sorted * p / 100)
  if i < 1 then i = 1 end
  return sorted[i]
end

function done(summary, latency, requests)
  common.done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  for i, p in ipairs(pages) do
    local all, nbad, sum = {}, 0, 0
    for _, t in ipairs(threads) do
      for _, v in ipairs(t:get("lat" .. i) or {}) do
        all[#all + 1] = v
        sum = sum + v
      end
      nbad = nbad + ((t:get("bad") or {})[i] or 0)
    end
    table.sort(all)
    io.write(string.format(
      '{"page": "%s", "requests": %d, "per_s": %.1f, "bad": %d, ' ..
      '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
      p.name, #all, #all / seconds, nbad, percentile(all, 50), percentile(all, 90), percentile(all, 99),
      all[#all] or 0, #all > 0 and sum / #all or 0))
  end
end
