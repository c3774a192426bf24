#!/usr/bin/env bash
# A/B of the mixed load of `scripts/bench`'s large base between builds of
# rempart: a copy of a filled instance under `serve --role all`, wrk posting
# sign-ups (2 threads, 64 connections) and wrk searching by e-mail over the
# admin API (1 thread, 16 connections) at once for SECONDS; prints one line
# per run: both rates and p99s, what the load left in the inbox, the peak
# RSS of serve (VmHWM, once the inbox is drained) and the write-lock hold
# time of the fold passes (from the log of serve).
# Alternate the binaries and repeat: only figures taken side by side compare.
#
# Usage: bench/ab_mixed.sh BINARY BASE [SECONDS=10]
#   BASE is an instance made by `rempart init --data BASE/data --keys
#   BASE/keys --config BASE/rempart.toml`, filled (e.g. `supporters import`
#   of `rempart_bench gen-csv` rows), with [guard] masked_rows_* and
#   search_misses_* set to 0 (the searches are one token's), holding
#   BASE/token (an API token of scope read-masked, from `admin token create`)
#   and BASE/emails.txt (`rempart_bench emails` for that base). BASE itself is
#   not touched: each run works on a copy.
#   FOLD_BATCH=N  sets [keeper].fold_batch of the copy
#   MALLOC_CONF   passes through to serve (jemalloc's options)
set -euo pipefail

bin="$1"
base="$(cd "$2" && pwd)"
seconds="${3:-10}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/ab_common.sh"

copy_on_free_ports "$base"
cat "$dir/data/rempart.db" >/dev/null  # the file in the page cache, as after the import in scripts/bench
if [ -n "${FOLD_BATCH:-}" ]; then sed -i "s/^fold_batch = .*/fold_batch = $FOLD_BATCH/" "$dir/rempart.toml"; fi

serve_all "$bin"

BENCH_PREFIX=b wrk -t2 -c64 -d"${seconds}s" --timeout 10s -s "$here/signup.lua" \
  "http://127.0.0.1:$port/api/v1/people/person_signup_helper" >"$dir/signups.out" &
signups=$!
BENCH_TOKEN="$(cat "$base/token")" BENCH_EMAILS="$base/emails.txt" BENCH_PREFIX=s \
  wrk -t1 -c16 -d"${seconds}s" --timeout 10s -s "$here/search.lua" \
  "http://127.0.0.1:$console/api/v1/supporters/search" >"$dir/search.out"
wait "$signups"
python3 - "$dir" "$server" "$(basename "$bin")" "${FOLD_BATCH:-default}" "$here" <<'EOF'
import os, re, sqlite3, subprocess, sys, time
d, pid, name, batch, here = sys.argv[1:6]
sys.path.insert(0, here)
from loadstats import drain_inbox, wrk_summary
left, drained = drain_inbox(d)
with open(f"/proc/{pid}/status") as f:
    hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
s, q = wrk_summary(os.path.join(d, "signups.out")), wrk_summary(os.path.join(d, "search.out"))
hold = subprocess.run([sys.executable, os.path.join(here, "fold_holds.py"), os.path.join(d, "serve.log")],
                      capture_output=True, text=True, check=True).stdout.strip() or "no passes"
print(f"{name} fold_batch={batch}: sign-ups {s['rps']:,.0f}/s p99 {s['p99_us'] / 1000:.1f} ms; "
      f"searches {q['rps']:,.1f}/s p99 {q['p99_us'] / 1000:.1f} ms; errors {s['bad'] + q['bad']}; "
      f"inbox at the end {left:,} (drained in {drained:.1f} s); VmHWM {hwm:.1f} MiB; {hold}")
EOF
