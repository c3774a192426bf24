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
dir="$(mktemp -d "${TMPDIR:-/tmp}/rempart-ab.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
console="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
if [ -n "${BASE:-}" ]; then
  base="$(cd "$BASE" && pwd)"
  cp -r "$base/data" "$base/keys" "$dir/"
  sync  # the copy written out, so its writeback does not stall the load's commits
  # The copy's paths, and the listen addresses of its [intake] and [console].
  awk -v base="$base/" -v dir="$dir/" -v intake="127.0.0.1:$port" -v console="127.0.0.1:$console" '
    /^\[/ { section = $1 }
    { out = ""; rest = $0
      while ((i = index(rest, base)) > 0) { out = out substr(rest, 1, i - 1) dir; rest = substr(rest, i + length(base)) }
      $0 = out rest }
    /^listen = / && section == "[intake]" { $0 = "listen = \"" intake "\"" }
    /^listen = / && section == "[console]" { $0 = "listen = \"" console "\"" }
    { print }' "$base/rempart.toml" >"$dir/rempart.toml"
else
  "$bin" init --data "$dir/data" --keys "$dir/keys" --config "$dir/rempart.toml" --region FR \
    --listen "127.0.0.1:$port" --console-listen "127.0.0.1:$console" >/dev/null
fi
sed -i 's/^rate_per_minute = .*/rate_per_minute = 1000000000/; s/^burst = .*/burst = 1000000000/' "$dir/rempart.toml"
if [ -n "${FOLD_BATCH:-}" ]; then sed -i "s/^fold_batch = .*/fold_batch = $FOLD_BATCH/" "$dir/rempart.toml"; fi

"$bin" serve --role "$role" --config "$dir/rempart.toml" >"$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

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
# The write-lock hold time of each fold pass, from the log of the keeper.
import re
with open(sys.argv[2]) as f:
    passes = [(float(m.group(1)), float(m.group(2) or "nan")) for m in
              re.finditer(r"write lock held ([0-9.]+) ms(?: \(commit ([0-9.]+) ms\))?", f.read())]
holds = sorted(h for h, _ in passes)
commits = sorted(c for _, c in passes)
if holds:
    print(f"; {len(holds)} passes, hold mean {sum(holds) / len(holds):.1f} ms, "
          f"p90 {holds[int(len(holds) * 0.9)]:.1f}, max {holds[-1]:.1f}, "
          f"commit mean {sum(commits) / len(commits):.1f}", end="")
print()
' "$dir/data" "$dir/serve.log"
