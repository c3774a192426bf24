#!/usr/bin/env bash
# A/B of durable sign-ups between two builds of rempart: a fresh instance per
# run (rate limit lifted, as bench/run.py does), `serve --role ROLE`, a 1 s
# warm-up, then wrk with bench/signup.lua (2 threads, 64 connections) for
# SECONDS; prints one line per run. Alternate the binaries and repeat: on a
# shared machine only figures taken side by side compare.
#
# Usage: bench/ab_signups.sh BINARY [ROLE=intake] [SECONDS=8]
#   FOLD_BATCH=N  sets [keeper].fold_batch of the instance (role all/keeper)
#   BASE=DIR      starts from a copy of an existing instance instead of an
#                 empty one: DIR made by `rempart init --data DIR/data --keys
#                 DIR/keys --config DIR/rempart.toml` and filled (e.g. by
#                 `supporters import`); DIR itself is not touched
# Example (old and new copies of build/bench-release/src/cli/rempart):
#   for i in 1 2 3; do bench/ab_signups.sh /tmp/rempart.old; bench/ab_signups.sh /tmp/rempart.new; done
set -euo pipefail

bin="$1"
role="${2:-intake}"
seconds="${3:-8}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/ab_common.sh"

port="$(free_port)"
console="$(free_port)"
if [ -n "${BASE:-}" ]; then
  copy_instance "$BASE" "$port" "$console"
else
  "$bin" init --data "$dir/data" --keys "$dir/keys" --config "$dir/rempart.toml" --region FR \
    --listen "127.0.0.1:$port" --console-listen "127.0.0.1:$console" >/dev/null
fi
sed -i 's/^rate_per_minute = .*/rate_per_minute = 1000000000/; s/^burst = .*/burst = 1000000000/' "$dir/rempart.toml"
if [ -n "${FOLD_BATCH:-}" ]; then sed -i "s/^fold_batch = .*/fold_batch = $FOLD_BATCH/" "$dir/rempart.toml"; fi

"$bin" serve --role "$role" --config "$dir/rempart.toml" >"$dir/serve.log" 2>&1 &
server=$!
wait_for_port "$port"

url="http://127.0.0.1:$port/api/v1/people/person_signup_helper"
BENCH_PREFIX=w wrk -t2 -c64 -d1s -s "$here/signup.lua" "$url" >/dev/null
BENCH_PREFIX=m wrk -t2 -c64 -d"${seconds}s" -s "$here/signup.lua" "$url" | grep '^{"wrk"' |
  python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
rps = j["requests"] / (j["duration_us"] / 1e6)
bad = j["status_errors"] + j["timeouts"] + j["read_errors"] + j["connect_errors"]
p50, p99 = j["p50_us"] / 1000, j["p99_us"] / 1000
print(f"{sys.argv[1]} role={sys.argv[2]} fold_batch={sys.argv[3]}: {rps:,.0f}/s, "
      f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {bad}", end="")
' "$(basename "$bin")" "$role" "${FOLD_BATCH:-default}"
# What is still waiting to be folded when the load ends (the inbox file;
# the records' file for a version that kept the inbox there).
python3 -c '
import os, sqlite3, sys
data = sys.argv[1]
path = os.path.join(data, "inbox.db")
if not os.path.exists(path):
    path = os.path.join(data, "rempart.db")
c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
n = c.execute("SELECT count(*) FROM inbox").fetchone()[0]
print(f", inbox at the end {n:,}", end="")
' "$dir/data"
holds="$(python3 "$here/fold_holds.py" "$dir/serve.log")"
if [ -n "$holds" ]; then echo "; $holds"; else echo; fi
