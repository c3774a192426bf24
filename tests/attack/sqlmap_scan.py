#!/usr/bin/env python3
"""sqlmap, the intruder's own tool, against a fresh `rempart serve --role all`.

Every endpoint of attacklib.ENDPOINTS is scanned (every parameter, and at
--level 3 the Cookie, User-Agent and Referer headers too) with
`--batch --level 3 --risk 2`, bounded: short time-based delay, short
timeouts, no retries, a capped UNION column range, and an outer time limit
per endpoint. The stage fails if sqlmap reports an injectable parameter or
even a heuristic hint of one (a database error text in a response), if any
response was a 5xx, if the server died, or if the store afterwards holds
more records than the run's accepted submissions.

With --backend postgresql (the stage sqlmap-pg) the instance keeps its
records in a fresh database of the attack suite's PostgreSQL cluster and
sqlmap tries PostgreSQL's payloads (`--dbms PostgreSQL`); afterwards, as in
payloads-pg: no table changed but those a sign-up writes, schema and grants
untouched, the intake's role cannot read, no error in the server's log.

Usage: sqlmap_scan.py [--backend sqlite|postgresql] [endpoint ...]
  SQLMAP_LIMIT=seconds per endpoint (default 240); SQLMAP_ALL_DBMS=1 tries
  the payloads of every DBMS, not only the backend's and the generic ones.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import attacklib as al  # noqa: E402

LIMIT = int(os.environ.get("SQLMAP_LIMIT", "240"))

# What sqlmap prints when it finds (or suspects) something.
FINDINGS = [
    "identified the following injection point",
    "is vulnerable",
    "appears to be injectable",
    "might be injectable",
    "might be vulnerable",
    "back-end DBMS is",
    "the back-end DBMS",
]


SQLMAP_DBMS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def sqlmap_args(ep: al.Endpoint, port: int, out: Path, traffic: Path, backend: str = "sqlite") -> list[str]:
    url = f"http://127.0.0.1:{port}{ep.path}"
    args = ["sqlmap", "--batch", "--level", "3", "--risk", "2",
            # Bounds: 1 s time-based delay, 5 s per request, no retries,
            # UNION tried with 1..6 columns only.
            "--time-sec", "1", "--timeout", "5", "--retries", "0", "--union-cols", "1-6",
            "--technique", "BEUSTQ", "--skip-waf", "--disable-coloring", "--flush-session",
            "--output-dir", str(out), "-t", str(traffic),
            "--cookie", "session=0123456789abcdef", "--answers", "follow=N",
            "--user-agent", "Mozilla/5.0 (rempart attack suite)"]
    if not os.environ.get("SQLMAP_ALL_DBMS"):
        # CI tries the backend's own and the generic payloads (a few
        # minutes); SQLMAP_ALL_DBMS=1 tries every DBMS's (much longer).
        args += ["--dbms", SQLMAP_DBMS[backend]]
    if ep.method == "GET":
        # The page takes no parameter; sqlmap needs one, so give it a query
        # (which the server ignores) next to the headers it tests at level 3.
        args += ["-u", url + "?q=1"]
    else:
        args += ["-u", url, "--data", ep.sqlmap_data()]
        if ep.content_type == al.JSON_TYPE:
            args += ["--headers", "Content-Type: application/json"]
    return args


def parse_traffic(path: Path) -> dict[int, int]:
    """Status counts from sqlmap's -t traffic log."""
    statuses: dict[int, int] = {}
    if not path.exists():
        return statuses
    # Each answer is logged as "HTTP response [#N] (400 Bad Request):" or
    # "HTTP redirect [#N] (303 See Other):".
    for m in re.finditer(r"^HTTP (?:response|redirect) \[#\d+\] \((\d{3})", path.read_text(errors="replace"),
                         re.M):
        code = int(m.group(1))
        statuses[code] = statuses.get(code, 0) + 1
    return statuses


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=tuple(SQLMAP_DBMS), default="sqlite")
    ap.add_argument("endpoint", nargs="*", help="endpoint names (attacklib.ENDPOINTS); default all")
    args = ap.parse_args()
    al.die_unless_binary()
    tally = al.Tally("sqlmap-pg" if args.backend == "postgresql" else "sqlmap")
    if shutil.which("sqlmap") is None:
        tally.check(False, "sqlmap is installed (scripts/deps test)")
        return tally.finish()
    wanted = set(args.endpoint)
    inst = al.Instance(intake={"rate_per_minute": 1000000, "burst": 1000000}, backend=args.backend)
    try:
        port = inst.start()
        secrets = inst.secrets()
        before = inst.pg_snapshot() if inst.pg else None
        total_accepted = 0
        for ep in al.ENDPOINTS:
            if wanted and ep.name not in wanted:
                continue
            out = inst.dir / f"sqlmap-{ep.name}"
            traffic = inst.dir / f"traffic-{ep.name}.txt"
            t0 = time.monotonic()
            try:
                cmd = ["timeout", "-k", "10", str(LIMIT)] + sqlmap_args(ep, port, out, traffic, args.backend)
                r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL)
                output = r.stdout + r.stderr
                code = r.returncode
            except OSError as e:
                output, code = str(e), -1
            took = time.monotonic() - t0
            statuses = parse_traffic(traffic)
            requests = sum(statuses.values())
            tally.note(f"{ep.name}: {requests} requests in {took:.0f} s, statuses {dict(sorted(statuses.items()))}")
            (inst.dir / f"sqlmap-{ep.name}.out").write_text(output)
            tally.check(code != 124, f"{ep.name}: sqlmap finished within {LIMIT} s",
                        "raise SQLMAP_LIMIT or narrow the techniques")
            tally.check("all tested parameters do not appear to be injectable" in output or
                        "all tested parameters" in output or code == 0,
                        f"{ep.name}: sqlmap ran to its verdict", output[-1500:])
            for f in FINDINGS:
                hits = [line for line in output.splitlines() if f in line]
                tally.check(not hits, f"{ep.name}: sqlmap reports nothing like '{f}'", " | ".join(hits[:5]))
            for logfile in out.rglob("log"):
                tally.check(logfile.stat().st_size == 0, f"{ep.name}: sqlmap logged no injection point",
                            logfile.read_text(errors="replace")[:1500])
            tally.check(requests > 0, f"{ep.name}: sqlmap sent requests")
            tally.check(not any(s >= 500 for s in statuses), f"{ep.name}: no 5xx answer", str(statuses))
            total_accepted += sum(n for s, n in statuses.items() if s in (202, 303))
            tally.check(inst.alive(), f"{ep.name}: server still running", inst.log()[-2000:])
            if traffic.exists():
                raw = traffic.read_bytes()
                for pat, what in al.LEAK_PATTERNS[:3]:  # SQL and database texts only: the log holds requests too
                    resp_parts = re.split(rb"\nHTTP (?:response|redirect) \[#\d+\]", raw)[1:]
                    bad = [p[:200] for p in resp_parts if pat.search(p.split(b"HTTP request [#")[0])]
                    tally.check(not bad, f"{ep.name}: no {what} in any response", repr(bad[:2]))
                tally.check(not any(s in raw for s in secrets), f"{ep.name}: no key material in any response")

        # The store holds only what the run legitimately added: at most one
        # record per accepted submission (same-person submissions merge).
        count = inst.wait_folded()
        tally.note(f"{count} records from {total_accepted} accepted submissions")
        tally.check(count <= total_accepted, "no record beyond the accepted submissions",
                    f"{count} > {total_accepted}")
        if total_accepted:
            tally.check(count >= 1, "the legitimate sign-ups were stored")
            rec = inst.show("email", al.base_person(0)["email"].decode())
            tally.check(rec is not None and rec.get("given_name") == "Atta", "the base record reads back intact",
                        str(rec))
        r = inst.cli(["--help"], with_config=False)
        if re.search(r"^\s+audit\s", r.stdout, re.M):
            v = inst.cli(["audit", "verify"])
            tally.check(v.returncode == 0, "audit verify passes after the scan", v.stdout[-500:] + v.stderr[-500:])
        else:
            tally.note("no `rempart audit` yet: audit verify skipped")
        r = al.request(port, "GET", "/")
        tally.check(r is not None and r.status == 200, "server still answers")
        if before is not None:
            inst.pg_checks(tally, before, al.PG_SIGNUP_TABLES)
        inst.stop_and_check(tally)
        inst.check_log_clean(tally)
    finally:
        inst.cleanup()
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
