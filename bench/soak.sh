#!/usr/bin/env bash
# A long run of `serve --role all` on a copy of a filled instance under a
# paced mixed load (sign-ups and API searches by e-mail at a steady rate,
# not as fast as possible), sampling serve's memory every SAMPLE seconds:
# what `scripts/bench` cannot show in its seconds-long loads, the resident
# set after a long run (every connection's page cache at its steady size)
# and whether it keeps growing. Prints a line per sample, then a summary: the resident set at
# marks through the run, its largest value, its trend over the run's second
# half (MiB per hour, least squares), both loads' rates and latencies, what
# the load left in the inbox, and what serve wrote (bytes handed to write
# calls, and bytes the kernel counted as sent to storage, /proc/PID/io) per
# sign-up accepted.
#
# Usage: bench/soak.sh BINARY BASE [MINUTES=60]
#   BASE as for bench/ab_mixed.sh (filled, masked budgets 0, BASE/token,
#   BASE/emails.txt); not touched, the run works on a copy.
#   SIGNUP_CONNECTIONS (4) and SIGNUP_DELAY_MS (8): wrk connections posting
#     sign-ups, each pausing that long before each request (~400/s);
#   SEARCH_CONNECTIONS (2) and SEARCH_DELAY_MS (40): the same for searches
#     (~45/s);
#   SAMPLE (30): seconds between samples;
#   SOAK_OUT: also write the samples and the summary there as JSON.
set -euo pipefail

bin="$1"
base="$(cd "$2" && pwd)"
minutes="${3:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/ab_common.sh"
seconds=$((minutes * 60))

copy_on_free_ports "$base"

serve_all "$bin"

BENCH_PREFIX=k BENCH_DELAY_MS="${SIGNUP_DELAY_MS:-8}" \
  wrk -t1 -c"${SIGNUP_CONNECTIONS:-4}" -d"${seconds}s" --timeout 10s -s "$here/signup.lua" \
  "http://127.0.0.1:$port/api/v1/people/person_signup_helper" >"$dir/signups.out" &
signups=$!
BENCH_TOKEN="$(cat "$base/token")" BENCH_EMAILS="$base/emails.txt" BENCH_PREFIX=q \
  BENCH_DELAY_MS="${SEARCH_DELAY_MS:-40}" \
  wrk -t1 -c"${SEARCH_CONNECTIONS:-2}" -d"${seconds}s" --timeout 10s -s "$here/search.lua" \
  "http://127.0.0.1:$console/api/v1/supporters/search" >"$dir/search.out" &
searches=$!

python3 - "$dir" "$server" "$seconds" "${SAMPLE:-30}" "${SOAK_OUT:-}" "$signups" "$searches" "$here" <<'EOF'
import json, os, re, sqlite3, sys, time
d, pid, seconds, every, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
loads = [int(p) for p in sys.argv[6:8]]
sys.path.insert(0, sys.argv[8])
from loadstats import trend, wrk_summary

def status():
    with open(f"/proc/{pid}/status") as f:
        s = f.read()
    kib = lambda k: int(re.search(rf"^{k}:\s+(\d+)", s, re.M).group(1)) / 1024
    return {k: kib(k) for k in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}

def io():
    with open(f"/proc/{pid}/io") as f:
        return {k: int(v) for k, v in (l.split(": ") for l in f.read().splitlines())}

def backlog():
    c = sqlite3.connect(f"file:{os.path.join(d, 'data', 'inbox.db')}?mode=ro", uri=True, timeout=30)
    try:
        return c.execute("SELECT count(*) FROM inbox").fetchone()[0]
    finally:
        c.close()

def alive(p):
    try:
        os.kill(p, 0)
        return True
    except OSError:
        return False

samples = []
io0 = io()
t0 = time.monotonic()
print(f"{'min':>6} {'RSS MiB':>8} {'anon':>7} {'file':>7} {'HWM':>7} {'inbox':>7} {'db MiB':>8}", flush=True)
while True:
    t = time.monotonic() - t0
    s = status()
    s.update({"t": t, "inbox": backlog(), "db_mib": os.path.getsize(os.path.join(d, "data", "rempart.db")) / 2**20})
    samples.append(s)
    print(f"{t / 60:6.1f} {s['VmRSS']:8.1f} {s['RssAnon']:7.1f} {s['RssFile']:7.1f} {s['VmHWM']:7.1f} "
          f"{s['inbox']:7,} {s['db_mib']:8.1f}", flush=True)
    if t >= seconds or not any(alive(p) for p in loads):
        io1 = io()
        break
    time.sleep(max(0.0, min(every, seconds - t)))

def slope(points):
    # MiB per hour
    per_s = trend(points)
    return float("nan") if per_s is None else per_s * 3600

summary = {"samples": samples}
summary["rss_max_mib"] = max(s["VmRSS"] for s in samples)
summary["hwm_mib"] = samples[-1]["VmHWM"]
half = [s for s in samples if s["t"] >= samples[-1]["t"] / 2]
summary["rss_trend_mib_per_h"] = slope([(s["t"], s["VmRSS"]) for s in half])
summary["anon_trend_mib_per_h"] = slope([(s["t"], s["RssAnon"]) for s in half])
marks = []
for m in (1, 5, 10, 20, 30, 45, 60, 90, 120, 180, 240):
    near = [s for s in samples if abs(s["t"] - m * 60) <= every / 2 + 1]
    if near:
        marks.append(f"{m} min {near[0]['VmRSS']:.1f}")
print("RSS (MiB) at " + ", ".join(marks))
print(f"RSS largest {summary['rss_max_mib']:.1f} MiB, VmHWM {summary['hwm_mib']:.1f} MiB; "
      f"trend over the second half {summary['rss_trend_mib_per_h']:+.1f} MiB/h "
      f"(anonymous memory {summary['anon_trend_mib_per_h']:+.1f} MiB/h)")
for name in ("signups", "search"):
    path = os.path.join(d, f"{name}.out")
    for _ in range(100):
        if os.path.exists(path) and '{"wrk"' in open(path).read():
            break
        time.sleep(0.1)
    j = wrk_summary(path)
    summary[name] = j
    print(f"{name}: {j['requests']:,} requests, {j['rps']:,.1f}/s, p50 {j['p50_us'] / 1000:.1f} ms, "
          f"p99 {j['p99_us'] / 1000:.1f} ms, max {j['max_us'] / 1000:.1f} ms, errors {j['bad']}")
accepted = summary["signups"]["requests"] - summary["signups"]["bad"]
summary["wchar_per_signup"] = (io1["wchar"] - io0["wchar"]) / max(1, accepted)
summary["write_bytes_per_signup"] = (io1["write_bytes"] - io0["write_bytes"]) / max(1, accepted)
print(f"serve wrote {summary['wchar_per_signup'] / 1024:.1f} KiB per sign-up accepted in write calls, "
      f"{summary['write_bytes_per_signup'] / 1024:.1f} KiB counted as sent to storage (searches' writes included)")
print(f"inbox at the end {samples[-1]['inbox']:,}; largest {max(s['inbox'] for s in samples):,}; "
      f"database {samples[-1]['db_mib']:.1f} MiB")
if out:
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
EOF
wait "$signups" "$searches"
