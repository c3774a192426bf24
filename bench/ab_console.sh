#!/usr/bin/env bash
# Console pages under load (issue 21): a copy of a filled instance under
# `serve --role all`, STAFF organiser accounts signed in (one session each),
# wrk with one connection per session (bench/console.lua) cycling over the
# pages staff open every day (the supporter list, the dashboard, the saved
# segments, the search form, the call lists, a name search); first alone for
# SECONDS (the baseline), then again while wrk posts sign-ups paced at about
# SIGNUP_RATE a second (bench/signup.lua). Prints, per phase, each page's
# rate, p50, p99 and max and the mix's; for the loaded phase the sign-ups'
# rate and p99, the inbox left at the end and its drain time, and the fold
# passes' write-lock hold (bench/fold_holds.py).
#
# Usage: bench/ab_console.sh BINARY BASE [SECONDS=30]
#   BASE as for bench/ab_mixed.sh (BASE/data, BASE/keys, BASE/rempart.toml;
#   e.g. `rempart supporters synth 1000000`); not touched, the run works on
#   a copy, where the guard's masked-row and search-miss budgets are lifted
#   (0, every role's table too: 20 people reading pages all day would cross
#   them, and each is still audited) and so is the intake's per-address
#   limit (wrk is one address).
#   STAFF (20): accounts, sessions and wrk connections (and threads);
#   STAFF_DELAY_MS (200): each staff connection's pause before each request,
#     0 for none (then each sends its next page as soon as one answers);
#   PAGES: only these pages (comma-separated names of bench/console.lua);
#   SEGMENTS ("paris:place=75&email=given lyon:place=Lyon"): saved segments,
#     name:form fields, each counted by every GET /segments;
#   SIGNUP_RATE (1000): sign-ups a second wanted, SIGNUP_CONNECTIONS (50):
#     connections posting them; each waits SIGNUP_DELAY_MS before a request,
#     by default 1000*CONNECTIONS/RATE - 3 ms (3 ms: a sign-up's answer at
#     that rate here, p50 2.5-2.9 ms), so the rate reached is about RATE;
#   PHASES ("alone signups"): which phases to run, in this order.
set -euo pipefail

bin="$(realpath "$1")"
base="$(cd "$2" && pwd)"
seconds="${3:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/ab_common.sh"

staff="${STAFF:-20}"
staff_delay="${STAFF_DELAY_MS:-200}"
signup_rate="${SIGNUP_RATE:-1000}"
signup_connections="${SIGNUP_CONNECTIONS:-50}"
signup_delay="${SIGNUP_DELAY_MS:-$((1000 * signup_connections / signup_rate - 3))}"
phases="${PHASES:-alone signups}"

copy_on_free_ports "$base"
sed -i -E -e 's/^(masked_rows_per_(minute|hour|day)|search_misses_per_(minute|hour|day)) = [0-9]+/\1 = 0/' \
  -e 's/^rate_per_minute = .*/rate_per_minute = 1000000000/' -e 's/^burst = .*/burst = 1000000000/' \
  "$dir/rempart.toml"
cat "$dir/data/rempart.db" >/dev/null  # the file in the page cache

python3 "$here/console_staff.py" add "$bin" "$dir/rempart.toml" "$staff" "$dir/accounts.txt"
serve_all "$bin"
segments="${SEGMENTS-paris:place=75&email=given lyon:place=Lyon}"
# shellcheck disable=SC2086  # a list of words
python3 "$here/console_staff.py" signin "$console" "$dir/accounts.txt" "$dir/sessions.txt" $segments

# console_load PHASE: the staff's wrk for SECONDS, its output in $dir/console-PHASE.out.
console_load() {
  local -a pace=()
  if [ "$staff_delay" -gt 0 ]; then pace=(BENCH_DELAY_MS="$staff_delay"); fi
  env "${pace[@]}" BENCH_SESSIONS="$dir/sessions.txt" BENCH_PAGES="${PAGES:-}" \
    wrk -t"$staff" -c"$staff" -d"${seconds}s" --timeout 10s -s "$here/console.lua" \
    "http://127.0.0.1:$console/" >"$dir/console-$1.out"
}

# shellcheck disable=SC2086  # lists of words
for phase in $phases; do
  case "$phase" in
    alone) console_load alone ;;
    signups)
      BENCH_PREFIX=c BENCH_DELAY_MS="$signup_delay" \
        wrk -t2 -c"$signup_connections" -d"${seconds}s" --timeout 10s -s "$here/signup.lua" \
        "http://127.0.0.1:$port/api/v1/people/person_signup_helper" >"$dir/signups.out" &
      signups=$!
      console_load signups
      wait "$signups"
      ;;
    *) echo "unknown phase $phase" >&2; exit 2 ;;
  esac
done

# shellcheck disable=SC2086
python3 - "$dir" "$(basename "$bin")" "$here" "$staff" "$staff_delay" "$signup_connections" "$signup_delay" \
  $phases <<'EOF'
import json, os, sqlite3, subprocess, sys, time
d, name, here, staff, staff_delay, sconn, sdelay = sys.argv[1:8]
phases = sys.argv[8:]
sys.path.insert(0, here)
from loadstats import drain_inbox, wrk_summary

left = drained = None
if "signups" in phases:
    left, drained = drain_inbox(d)

ms = lambda us: f"{us / 1000:.1f}"
print(f"{name}: {staff} staff, each pausing {staff_delay} ms before a page")
for phase in phases:
    path = os.path.join(d, f"console-{phase}.out")
    mix = wrk_summary(path)
    with open(path, encoding="utf-8") as f:
        pages = [json.loads(l) for l in f if l.startswith('{"page"')]
    title = "console alone" if phase == "alone" else f"console with sign-ups ({sconn} connections, each pausing {sdelay} ms)"
    print(f"\n{title}")
    print(f"| {'page':<12} | {'req/s':>7} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7} | {'non-200':>7} |")
    print(f"| {'-' * 12} | {'-' * 7}:| {'-' * 7}:| {'-' * 7}:| {'-' * 7}:| {'-' * 7}:|")
    for p in pages:
        print(f"| {p['page']:<12} | {p['per_s']:>7.1f} | {ms(p['p50_us']):>7} | {ms(p['p99_us']):>7} | "
              f"{ms(p['max_us']):>7} | {p['bad']:>7} |")
    print(f"| {'all (wrk)':<12} | {mix['rps']:>7.1f} | {ms(mix['p50_us']):>7} | {ms(mix['p99_us']):>7} | "
          f"{ms(mix['max_us']):>7} | {sum(p['bad'] for p in pages) + mix['bad'] - mix['status_errors']:>7} |")
    if phase == "signups":
        s = wrk_summary(os.path.join(d, "signups.out"))
        hold = subprocess.run([sys.executable, os.path.join(here, "fold_holds.py"), os.path.join(d, "serve.log")],
                              capture_output=True, text=True, check=True).stdout.strip() or "no passes"
        print(f"sign-ups {s['rps']:,.0f}/s p50 {ms(s['p50_us'])} ms p99 {ms(s['p99_us'])} ms max {ms(s['max_us'])} ms, "
              f"errors {s['bad']}; inbox at the end {left:,} (drained in {drained:.1f} s); {hold}")
EOF
