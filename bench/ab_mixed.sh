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
#   of `rempart_bench gen-csv` rows), with [guard] masked_per_minute and
#   masked_per_hour set to 0 (the searches are one token's), holding
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
dir="$(mktemp -d "${TMPDIR:-/tmp}/rempart-abm.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
console="$(free_port)"
cp -r "$base/data" "$base/keys" "$dir/"
sync  # the copy written out, so its writeback does not stall the load's commits
cat "$dir/data/rempart.db" >/dev/null  # the file in the page cache, as after the import in scripts/bench
awk -v base="$base/" -v dir="$dir/" -v intake="127.0.0.1:$port" -v console="127.0.0.1:$console" '
  /^\[/ { section = $1 }
  { out = ""; rest = $0
    while ((i = index(rest, base)) > 0) { out = out substr(rest, 1, i - 1) dir; rest = substr(rest, i + length(base)) }
    $0 = out rest }
  /^listen = / && section == "[intake]" { $0 = "listen = \"" intake "\"" }
  /^listen = / && section == "[console]" { $0 = "listen = \"" console "\"" }
  { print }' "$base/rempart.toml" >"$dir/rempart.toml"
if [ -n "${FOLD_BATCH:-}" ]; then sed -i "s/^fold_batch = .*/fold_batch = $FOLD_BATCH/" "$dir/rempart.toml"; fi

"$bin" serve --role all --config "$dir/rempart.toml" >"$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && (echo >"/dev/tcp/127.0.0.1/$console") 2>/dev/null; then break; fi
  sleep 0.1
done

BENCH_PREFIX=b wrk -t2 -c64 -d"${seconds}s" --timeout 10s -s "$here/signup.lua" \
  "http://127.0.0.1:$port/api/v1/people/person_signup_helper" >"$dir/signups.out" &
signups=$!
BENCH_TOKEN="$(cat "$base/token")" BENCH_EMAILS="$base/emails.txt" BENCH_PREFIX=s \
  wrk -t1 -c16 -d"${seconds}s" --timeout 10s -s "$here/search.lua" \
  "http://127.0.0.1:$console/api/v1/supporters/search" >"$dir/search.out"
wait "$signups"
python3 - "$dir" "$server" "$(basename "$bin")" "${FOLD_BATCH:-default}" <<'EOF'
import json, os, re, sqlite3, sys, time
d, pid, name, batch = sys.argv[1:5]
c = sqlite3.connect(f"file:{os.path.join(d, 'data', 'inbox.db')}?mode=ro", uri=True, timeout=30)
left = c.execute("SELECT count(*) FROM inbox").fetchone()[0]
t0 = time.monotonic()
while c.execute("SELECT count(*) FROM inbox").fetchone()[0] > 0 and time.monotonic() - t0 < 120:
    time.sleep(0.05)
drained = time.monotonic() - t0
with open(f"/proc/{pid}/status") as f:
    hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
def wrk(path):
    with open(path) as f:
        j = json.loads(next(l for l in f if l.startswith('{"wrk"')))
    j["rps"] = j["requests"] / (j["duration_us"] / 1e6)
    j["bad"] = j["status_errors"] + j["timeouts"] + j["read_errors"] + j["connect_errors"]
    return j
s, q = wrk(os.path.join(d, "signups.out")), wrk(os.path.join(d, "search.out"))
with open(os.path.join(d, "serve.log")) as f:
    passes = [(float(m.group(1)), float(m.group(2) or "nan")) for m in
              re.finditer(r"write lock held ([0-9.]+) ms(?: \(commit ([0-9.]+) ms\))?", f.read())]
holds = sorted(h for h, _ in passes)
commits = sorted(c for _, c in passes)
hold = (f"{len(holds)} passes, hold mean {sum(holds) / len(holds):.1f} ms, "
        f"p90 {holds[int(len(holds) * 0.9)]:.1f}, max {holds[-1]:.1f}, commit mean {sum(commits) / len(commits):.1f}"
        ) if holds else "no passes"
print(f"{name} fold_batch={batch}: sign-ups {s['rps']:,.0f}/s p99 {s['p99_us'] / 1000:.1f} ms; "
      f"searches {q['rps']:,.1f}/s p99 {q['p99_us'] / 1000:.1f} ms; errors {s['bad'] + q['bad']}; "
      f"inbox at the end {left:,} (drained in {drained:.1f} s); VmHWM {hwm:.1f} MiB; {hold}")
EOF
