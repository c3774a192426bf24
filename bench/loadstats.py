"""What the load scripts of bench/ share: the summary line that
bench/wrk_common.lua makes wrk print, read back from a file, and the
least-squares trend of a series of samples. Used by bench/run.py,
bench/ab_mixed.sh and bench/soak.sh."""
import json
import os
import sqlite3
import time


def wrk_summary(path):
    """The wrk summary in `path` as a dict, with `rps` (requests per second)
    and `bad` (non-2xx answers and socket errors) added."""
    with open(path, encoding="utf-8") as f:
        j = json.loads(next(line for line in f if line.startswith('{"wrk"')))
    j["rps"] = j["requests"] / (j["duration_us"] / 1e6)
    j["bad"] = j["status_errors"] + j["timeouts"] + j["read_errors"] + j["connect_errors"]
    return j


def trend(samples):
    """Least-squares slope of (t, n) samples, in n per unit of t; None with
    fewer than two samples or a single instant."""
    if len(samples) < 2:
        return None
    mt = sum(t for t, _ in samples) / len(samples)
    mn = sum(n for _, n in samples) / len(samples)
    var = sum((t - mt) ** 2 for t, _ in samples)
    return sum((t - mt) * (n - mn) for t, n in samples) / var if var else None


def drain_inbox(instance_dir, bound_s=120):
    """What the load left in the inbox of the instance at `instance_dir`,
    and the seconds the keeper then took to fold it (at most `bound_s`)."""
    c = sqlite3.connect(f"file:{os.path.join(instance_dir, 'data', 'inbox.db')}?mode=ro", uri=True, timeout=30)
    left = c.execute("SELECT count(*) FROM inbox").fetchone()[0]
    t0 = time.monotonic()
    while c.execute("SELECT count(*) FROM inbox").fetchone()[0] > 0 and time.monotonic() - t0 < bound_s:
        time.sleep(0.05)
    return left, time.monotonic() - t0
