#!/usr/bin/env python3
"""The admin console under attack, signed in, against a fresh `rempart serve
--role all` (docs/console.md).

Set-up: a few supporters imported with the CLI, an organiser, an admin and an
auditor created with `admin add` and signed in over HTTP (name + password,
then the TOTP code), and an `intake` API token. The exfiltration guard's
budgets are off ([guard] all 0): the scan sends thousands of list, search and
reveal requests, and the point here is injection, not the guard locking the
scanner out (its own tests cover that).

1. sqlmap with each account's session cookie (and the CSRF token as a fixed
   parameter, never tested) on every console input that reaches the store:
   search (page and API), the masked list, reveal, tags, the audit filter,
   account creation, and both sign-in steps unauthenticated (the code step
   gets a fresh `pending` id before each request through sqlmap's --eval).
   `--batch --level 2 --risk 2 --dbms SQLite`, bounded as sqlmap_scan.py is.
   Fails on any finding or hint, a 5xx, a dead server, key material, or SQL
   or database text in a response (other than the escaped echo of what the
   request sent, which the audit page legitimately shows as its filter).
2. Raw-socket checks: every route without a session (303 /login or 401), an
   intake token on every API read (403), foreign Host (421), cross-site posts
   (403), the console and intake ports serving nothing of each other (404),
   and the payload corpus into the search, reveal reason, tag and sign-in
   fields: a 2xx/3xx/4xx, nothing leaked, nothing reflected.
3. `rempart audit verify` passes, the server stops cleanly, no sanitizer report.

Usage: console_scan.py [--skip-sqlmap] [endpoint ...]
  CONSOLE_SQLMAP_LIMIT=seconds per endpoint (default 120).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import attacklib as al  # noqa: E402
import payloads as corpus_mod  # noqa: E402
import sqlmap_scan as sm  # noqa: E402

LIMIT = int(os.environ.get("CONSOLE_SQLMAP_LIMIT", "120"))
GUARD_OFF = {f"{k}_{p}": 0 for k in ("name", "email", "phone", "address") for p in ("per_hour", "per_day")}
GUARD_OFF.update({"masked_per_minute": 0, "masked_per_hour": 0})
SEED_EMAIL = "ann.lee@example.org"


# ---------------------------------------------------------------------------
# Set-up


def seed_rows() -> list[dict]:
    rows = [{"given_name": "Ann", "family_name": "Lee", "email": SEED_EMAIL, "phone": "+33612345678",
             "postal_code": "75011", "tags": "alpha"}]
    for i in range(1, 8):
        rows.append({"given_name": f"Seed{chr(64 + i)}", "family_name": "Person", "email": f"seed{i}@example.org",
                     "phone": f"+336123400{i:02d}", "postal_code": "69001", "tags": "beta" if i % 2 else "alpha"})
    return rows


class Console:
    """The instance, its signed-in sessions and what the checks need."""

    def __init__(self, tally: al.Tally, inst: al.Instance):
        self.t = tally
        self.inst = inst
        self.port = inst.console_port
        self.intake_port = inst.port
        self.secrets = inst.secrets()
        self.accounts = {
            "organiser": inst.add_account("orga", "organiser"),
            "admin": inst.add_account("adm", "admin"),
            "auditor": inst.add_account("aud", "auditor"),
        }
        self.token = inst.create_token("intake", "website")
        self.sessions: dict[str, al.Session] = {}
        self.record_id = ""
        self.cursor = ""

    def sign_in_all(self) -> None:
        for role, acct in self.accounts.items():
            try:
                self.sessions[role] = al.sign_in(self.port, acct)
                self.t.check(True, f"{role} signs in over HTTP")
            except RuntimeError as e:
                self.t.check(False, f"{role} signs in over HTTP", str(e))
        org = self.sessions.get("organiser")
        if org is None:
            return
        r = al.console_request(self.port, "GET", "/api/v1/supporters?limit=2", session=org)
        ok = r is not None and r.status == 200
        self.t.check(ok, "organiser lists the seeded supporters", str(r.status if r else None))
        if ok:
            page = json.loads(r.body)
            self.cursor = page.get("next_cursor", "")
            self.t.check(page.get("total") == len(seed_rows()), "every seeded supporter is listed", str(page.get("total")))
        r = al.console_request(self.port, "POST", "/api/v1/supporters/search",
                               json.dumps({"kind": "email", "value": SEED_EMAIL}).encode(), al.JSON_TYPE, session=org)
        items = json.loads(r.body).get("items", []) if r is not None and r.status == 200 else []
        self.t.check(len(items) == 1, "organiser finds the seeded record by exact e-mail")
        if items:
            self.record_id = items[0]["id"]

    def look(self, what: str, r: al.Response | None, statuses: tuple | None = None) -> bool:
        """Every raw answer: present, no 5xx, nothing leaked; optionally the status."""
        if not self.t.check(r is not None, f"{what}: answered"):
            return False
        self.t.check(r.status < 500, f"{what}: no 5xx", str(r.status))
        bad = [b for b in al.leaks(r, self.secrets) if b != "version string" or not loopback_only(r.raw)]
        self.t.check(not bad, f"{what}: nothing leaked", f"{bad}: {r.raw[:300]!r}")
        if statuses is not None:
            return self.t.check(r.status in statuses, f"{what}: status", f"{r.status} not in {statuses}")
        return True


def loopback_only(raw: bytes) -> bool:
    """The version-string pattern also matches dotted numbers such as the
    loopback address an audit entry legitimately names; true when those are
    the only dotted numbers in the answer."""
    rest = re.sub(rb"127\.0\.0\.\d+", b"", raw)
    return re.search(rb"\d+\.\d+\.\d+", rest) is None


# ---------------------------------------------------------------------------
# 1. sqlmap, authenticated


class Target:
    def __init__(self, name: str, method: str, path: str, params: list[str], role: str | None,
                 data: str | None = None, json_body: bool = False, extra: list[str] | None = None):
        self.name, self.method, self.path, self.params = name, method, path, params
        self.role, self.data, self.json_body, self.extra = role, data, json_body, extra or []


def targets(c: Console) -> list[Target]:
    rid = c.record_id or "00000000000000000000000000000000"
    csrf = {role: quote(s.csrf, safe="") for role, s in c.sessions.items()}
    audit_actor = quote(f"account:{c.accounts['organiser'].name}", safe="")
    pending_eval = (
        "import urllib.request as _u, re as _r; "
        "pending = _r.search(b'name=\"pending\" value=\"([^\"]+)\"', _u.build_opener(_u.ProxyHandler({})).open("
        f"_u.Request('http://127.0.0.1:{c.port}/login', data=b'name=nobody&password=not-the-password-1'), "
        "timeout=10).read()).group(1).decode() if pending == 'PENDING' else pending")
    return [
        # The audit filter first, while the log is short: every GET /audit
        # verifies the whole chain.
        Target("audit", "GET", f"/audit?actor={audit_actor}&action=supporter.reveal", ["actor", "action"], "auditor"),
        Target("search", "POST", "/search", ["kind", "q"], "organiser",
               f"kind=email&q={quote(SEED_EMAIL)}&csrf={csrf.get('organiser', '')}"),
        Target("api-search", "POST", "/api/v1/supporters/search", ["kind", "value"], "organiser",
               json.dumps({"kind": "email", "value": SEED_EMAIL}), json_body=True),
        # The session cookie is tested here once: its lookup is a query too.
        Target("list", "GET", f"/supporters?tag=alpha&cursor={quote(c.cursor or 'x', safe='')}",
               ["tag", "cursor", "rempart_session"], "organiser"),
        Target("reveal", "POST", f"/supporters/{rid}/reveal", ["kind", "reason"], "organiser",
               f"kind=email&reason=checking+a+bounce&csrf={csrf.get('organiser', '')}"),
        Target("tags", "POST", f"/supporters/{rid}/tags", ["add"], "organiser",
               f"add=volunteer&csrf={csrf.get('organiser', '')}"),
        # Beyond the pages: the API forms of the list, reveal and tags, an
        # account action and token creation, which reach the store too.
        Target("api-list", "GET", f"/api/v1/supporters?tag=alpha&cursor={quote(c.cursor or 'x', safe='')}&limit=2",
               ["tag", "cursor", "limit"], "organiser"),
        Target("api-reveal", "POST", f"/api/v1/supporters/{rid}/reveal", ["reason"], "organiser",
               json.dumps({"fields": ["email"], "reason": "checking a bounce"}), json_body=True),
        Target("api-tags", "POST", f"/api/v1/supporters/{rid}/tags", ["add"], "organiser",
               json.dumps({"add": ["volunteer"]}), json_body=True),
        Target("tokens", "POST", "/tokens", ["label", "scope", "days"], "admin",
               f"label=website&scope=intake&days=30&csrf={csrf.get('admin', '')}"),
        Target("unlock", "POST", "/accounts/orga/unlock", ["reason"], "admin",
               f"reason=locked+by+mistake&csrf={csrf.get('admin', '')}"),
        Target("accounts", "POST", "/accounts", ["name", "role", "password"], "admin",
               f"name=newacct&role=viewer&password=Zq-long-enough-battery-staple-7&csrf={csrf.get('admin', '')}"),
        # Sign-in last: its failures throttle 127.0.0.1, which would slow any
        # later sign-in from here (none follows).
        Target("login", "POST", "/login", ["name", "password"], None, "name=orga&password=not-the-password-1"),
        # Every failure is a 401 (which sqlmap takes for "wrong credentials"
        # and stops at unless told otherwise).
        Target("login-code", "POST", "/login/code", ["pending", "code"], None, "pending=PENDING&code=123456",
               extra=["--eval", pending_eval, "--ignore-code", "401"]),
    ]


def sqlmap_args(c: Console, tg: Target, out: Path, traffic: Path) -> list[str]:
    args = ["sqlmap", "--batch", "--level", "2", "--risk", "2", "--dbms", "SQLite",
            # Bounds as in sqlmap_scan.py: 1 s time-based delay, no retries,
            # UNION with 1..6 columns; 10 s per request since Argon2id (the
            # accounts form) is slow under the sanitizers.
            "--time-sec", "1", "--timeout", "10", "--retries", "0", "--union-cols", "1-6",
            "--technique", "BEUSTQ", "--skip-waf", "--disable-coloring", "--flush-session",
            "--output-dir", str(out), "-t", str(traffic), "--answers", "follow=N",
            "--drop-set-cookie", "--user-agent", "Mozilla/5.0 (rempart attack suite)",
            "-p", ",".join(tg.params), "-u", f"http://127.0.0.1:{c.port}{tg.path}"]
    session = c.sessions.get(tg.role) if tg.role else None
    args += ["--cookie", session.cookie if session else "rempart_session=0123456789abcdef"]
    if tg.data is not None:
        args += ["--data", tg.data]
        if not tg.json_body:
            args += ["--skip", "csrf"]
    headers = []
    if tg.json_body:
        headers.append("Content-Type: application/json")
        if session:
            headers.append(f"X-CSRF-Token: {session.csrf}")
    if headers:
        args += ["--headers", "\n".join(headers)]
    return args + tg.extra


def traffic_exchanges(path: Path) -> list[tuple[bytes, bytes]]:
    """(request, response) pairs from sqlmap's -t log, whose entries are
    separated by a line of 76 '#' and whose lines end in CRLF."""
    if not path.exists():
        return []
    out = []
    for entry in re.split(rb"\r?\n#{76}\r?\n", path.read_bytes().replace(b"\r\n", b"\n")):
        m = re.search(rb"^HTTP (?:response|redirect) \[#\d+\]", entry, re.M)
        if m:
            out.append((entry[:m.start()], entry[m.start():]))
    return out


def sent_values(req: bytes) -> list[bytes]:
    """Every parameter value (and cookie) a logged request carried, as text."""
    text = req.decode("utf-8", "replace").strip()
    lines = text.split("\n")
    if lines and lines[0].startswith("HTTP request"):
        lines = lines[1:]
    values = []
    m = re.match(r"\w+ (\S+)", lines[0] if lines else "")
    if m:
        values += [v for _, v in parse_qsl(urlsplit(m.group(1)).query, keep_blank_values=True)]
    _, _, body = "\n".join(lines).partition("\n\n")
    body = body.strip()
    if body.startswith("{"):
        try:
            values += [v for v in json.loads(body).values() if isinstance(v, str)]
        except ValueError:
            values.append(body)
    elif body:
        values += [v for _, v in parse_qsl(body, keep_blank_values=True)]
    return [v.encode() for v in values if len(v) >= 3]


def without_echo(resp: bytes, values: list[bytes]) -> bytes:
    """The response minus any raw or HTML-escaped echo of a sent value."""
    for v in sorted(values, key=len, reverse=True):
        s = v.decode("utf-8", "replace")
        for form in {v, html.escape(s, quote=True).encode(), html.escape(s, quote=False).encode(),
                     json.dumps(s)[1:-1].encode()}:
            resp = resp.replace(form, b"")
    return resp


def run_sqlmap(c: Console, wanted: set[str]) -> None:
    t = c.t
    if shutil.which("sqlmap") is None:
        t.check(False, "sqlmap is installed (scripts/deps test)")
        return
    for tg in targets(c):
        if wanted and tg.name not in wanted:
            continue
        out = c.inst.dir / f"sqlmap-{tg.name}"
        traffic = c.inst.dir / f"traffic-{tg.name}.txt"
        t0 = time.monotonic()
        try:
            r = subprocess.run(["timeout", "-k", "10", str(LIMIT)] + sqlmap_args(c, tg, out, traffic),
                               capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL)
            output, code = r.stdout + r.stderr, r.returncode
        except OSError as e:
            output, code = str(e), -1
        took = time.monotonic() - t0
        statuses = sm.parse_traffic(traffic)
        requests = sum(statuses.values())
        t.note(f"sqlmap {tg.name}: {requests} requests in {took:.0f} s, statuses {dict(sorted(statuses.items()))}")
        (c.inst.dir / f"sqlmap-{tg.name}.out").write_text(output)
        t.check(code != 124, f"{tg.name}: sqlmap finished within {LIMIT} s",
                "raise CONSOLE_SQLMAP_LIMIT or narrow the techniques")
        t.check("all tested parameters do not appear to be injectable" in output or
                "all tested parameters" in output or code == 0, f"{tg.name}: sqlmap ran to its verdict",
                output[-1500:])
        for f in sm.FINDINGS:
            hits = [line for line in output.splitlines() if f in line]
            t.check(not hits, f"{tg.name}: sqlmap reports nothing like '{f}'", " | ".join(hits[:5]))
        for logfile in out.rglob("log"):
            t.check(logfile.stat().st_size == 0, f"{tg.name}: sqlmap logged no injection point",
                    logfile.read_text(errors="replace")[:1500])
        t.check(requests > 50, f"{tg.name}: sqlmap sent requests", str(requests))
        t.check(not any(s >= 500 for s in statuses), f"{tg.name}: no 5xx answer", str(statuses))
        exchanges = traffic_exchanges(traffic)
        if tg.role:
            # The scan really ran signed in: few answers are the sign-in
            # redirect (those few are sqlmap tampering with the cookie).
            to_login = sum(1 for _, resp in exchanges if re.search(rb"(?im)^location: /login\s*$", resp))
            t.check(to_login < requests // 2, f"{tg.name}: the session held", f"{to_login} of {requests} to /login")
        t.check(c.inst.alive(), f"{tg.name}: server still running", c.inst.log()[-2000:])
        for pat, what in al.LEAK_PATTERNS[:3]:
            bad = []
            for req, resp in exchanges:
                if pat.search(without_echo(resp, sent_values(req))):
                    bad.append(resp[:300])
            t.check(not bad, f"{tg.name}: no {what} in any response", repr(bad[:2]))
        raw = traffic.read_bytes() if traffic.exists() else b""
        t.check(not any(s in raw for s in c.secrets), f"{tg.name}: no key material in any response")
    # The sessions survived the scan (sqlmap tampered with the cookie, never ended it).
    for role, s in c.sessions.items():
        r = al.console_request(c.port, "GET", "/api/v1/me", session=s)
        t.check(r is not None and r.status == 200, f"{role} session still valid after sqlmap")


# ---------------------------------------------------------------------------
# 2. Raw-socket checks


def route_list(c: Console) -> list[tuple[str, str, str]]:
    """(method, path, kind) of every route that needs a session."""
    rid = c.record_id or "00000000000000000000000000000000"
    pages_get = ["/", "/supporters", "/search", f"/supporters/{rid}", "/tags", "/accounts", "/tokens", "/sessions",
                 "/audit"]
    pages_post = ["/logout", "/search", f"/supporters/{rid}/reveal", f"/supporters/{rid}/tags", "/accounts",
                  "/accounts/orga/disable", "/accounts/orga/role", "/accounts/orga/unlock", "/accounts/orga/reset-mfa",
                  "/accounts/orga/revoke-sessions", "/tokens", "/tokens/1/revoke", "/sessions/revoke"]
    api_get = ["/api/v1/me", "/api/v1/supporters", f"/api/v1/supporters/{rid}", "/api/v1/tags"]
    api_post = ["/api/v1/supporters/search", f"/api/v1/supporters/{rid}/reveal", f"/api/v1/supporters/{rid}/tags"]
    return ([("GET", p, "page") for p in pages_get] + [("POST", p, "page") for p in pages_post] +
            [("GET", p, "api") for p in api_get] + [("POST", p, "api") for p in api_post])


def check_no_session(c: Console) -> None:
    for method, path, kind in route_list(c):
        body, ctype = (b"", None)
        if method == "POST":
            body, ctype = (b"{}", al.JSON_TYPE) if kind == "api" else (b"csrf=x", al.FORM_TYPE)
        for label, headers in (("no cookie", {}), ("forged cookie", {"Cookie": "rempart_session=AAAAAAAAAAAAAAAA"}),
                               ("ended-looking cookie", {"Cookie": "rempart_session="})):
            r = al.console_request(c.port, method, path, body, ctype, headers=headers)
            what = f"{method} {path} with {label}"
            if kind == "page":
                if c.look(what, r, (303,)):
                    c.t.check(r.header("location") == "/login", f"{what}: redirected to /login",
                              str(r.header("location")))
            else:
                c.look(what, r, (401,))
        # A bearer token is for /api/ only: on a page it is no sign-in.
        if kind == "page":
            r = al.console_request(c.port, method, path, body, ctype, headers={"Authorization": f"Bearer {c.token}"})
            c.look(f"{method} {path} with an API token", r, (303,))


def check_intake_token(c: Console) -> None:
    rid = c.record_id or "00000000000000000000000000000000"
    auth = {"Authorization": f"Bearer {c.token}"}
    reads = [("GET", "/api/v1/supporters", b""), ("GET", "/api/v1/supporters?tag=alpha", b""),
             ("GET", f"/api/v1/supporters/{rid}", b""), ("GET", "/api/v1/tags", b""),
             ("POST", "/api/v1/supporters/search", json.dumps({"kind": "email", "value": SEED_EMAIL}).encode()),
             ("POST", f"/api/v1/supporters/{rid}/reveal", b'{"fields":["email"],"reason":"checking a bounce"}'),
             ("POST", f"/api/v1/supporters/{rid}/tags", b'{"add":["intake-was-here"]}')]
    for method, path, body in reads:
        r = al.console_request(c.port, method, path, body, al.JSON_TYPE if body else None, headers=auth)
        if c.look(f"intake token {method} {path}", r, (403,)):
            c.t.check(SEED_EMAIL.encode() not in r.body and b"@" not in r.body,
                      f"intake token {method} {path}: no supporter data")
    r = al.console_request(c.port, "GET", "/api/v1/me", headers=auth)
    if c.look("intake token GET /api/v1/me", r, (200,)):
        c.t.check(json.loads(r.body).get("scope") == "intake" and "csrf_token" not in json.loads(r.body),
                  "intake token /api/v1/me: scope intake, no CSRF token", r.body[:200].decode("utf-8", "replace"))
    for bad in ("rmp_", "rmp_x", c.token[:-2] + ("AA" if not c.token.endswith("AA") else "BB"), c.token + "x", ""):
        r = al.console_request(c.port, "GET", "/api/v1/supporters", headers={"Authorization": f"Bearer {bad}"})
        c.look(f"forged bearer token {bad[:8]!r}…", r, (401,))
    # The tag the intake token tried to add is not there.
    org = c.sessions.get("organiser")
    if org:
        r = al.console_request(c.port, "GET", f"/api/v1/supporters/{rid}", session=org)
        c.t.check(r is not None and r.status == 200 and b"intake-was-here" not in r.body,
                  "the intake token changed nothing")


def check_host_and_origin(c: Console) -> None:
    org = c.sessions.get("organiser")
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "127.0.0.2", "",
                 "LOCALHOST.", "[::1]"):
        r = al.console_request(c.port, "GET", "/supporters", session=org, headers={"Host": host})
        c.look(f"Host {host!r}", r, (421,))
    for host in ("localhost", f"localhost:{c.port}", f"127.0.0.1:{c.port}", "LocalHost"):
        r = al.console_request(c.port, "GET", "/api/v1/me", session=org, headers={"Host": host})
        c.look(f"Host {host!r} accepted", r, (200,))
    if org is None:
        return
    body = al.form_body({"kind": b"email", "q": SEED_EMAIL.encode(), "csrf": org.csrf.encode()})
    own = f"http://127.0.0.1:{c.port}"
    # What a browser sends: Host with the port, Origin the same.
    r = al.console_request(c.port, "POST", "/search", body, al.FORM_TYPE, session=org,
                           headers={"Origin": own, "Host": f"127.0.0.1:{c.port}", "Sec-Fetch-Site": "same-origin"})
    c.look("same-origin search post", r, (200,))
    for label, headers in (("Origin evil", {"Origin": "https://evil.example"}),
                           ("Origin null", {"Origin": "null"}),
                           ("Origin other port", {"Origin": f"http://127.0.0.1:{c.intake_port}"}),
                           ("Origin https of own", {"Origin": f"https://127.0.0.1:{c.port}"}),
                           ("Sec-Fetch-Site cross-site", {"Sec-Fetch-Site": "cross-site"}),
                           ("Sec-Fetch-Site same-site", {"Sec-Fetch-Site": "same-site"})):
        r = al.console_request(c.port, "POST", "/search", body, al.FORM_TYPE, session=org, headers=headers)
        c.look(f"cross-site search post ({label})", r, (403,))
        r = al.console_request(c.port, "POST", "/login", b"name=orga&password=whatever-it-is-1", al.FORM_TYPE,
                               headers=headers)
        c.look(f"cross-site sign-in post ({label})", r, (403,))
        r = al.console_request(c.port, "POST", "/api/v1/supporters/search",
                               json.dumps({"kind": "email", "value": SEED_EMAIL}).encode(), al.JSON_TYPE,
                               session=org, headers=headers)
        c.look(f"cross-site API post ({label})", r, (403,))
    # CSRF: missing or wrong token changes nothing.
    for label, token in (("missing", None), ("wrong", "A" * len(org.csrf)), ("other session's", (
            c.sessions.get("admin") or org).csrf)):
        fields = {"add": b"csrf-was-bypassed"}
        if token is not None:
            fields["csrf"] = token.encode()
        r = al.console_request(c.port, "POST", f"/supporters/{c.record_id}/tags", al.form_body(fields), al.FORM_TYPE,
                               session=org)
        c.look(f"tag post with {label} CSRF token", r, (403,))
    r = al.console_request(c.port, "POST", f"/api/v1/supporters/{c.record_id}/tags", b'{"add":["csrf-was-bypassed"]}',
                           al.JSON_TYPE, session=org, headers={"X-CSRF-Token": "wrong"})
    c.look("API tag post with a wrong X-CSRF-Token", r, (403,))
    r = al.console_request(c.port, "GET", f"/api/v1/supporters/{c.record_id}", session=org)
    c.t.check(r is not None and b"csrf-was-bypassed" not in r.body, "no CSRF-less post changed the record")


def check_sign_in(c: Console) -> None:
    """The pending sign-in is bound to its address and single use, and a
    failure says nothing about which factor was wrong. Other loopback
    addresses than the scan's, so its sign-in throttle plays no part."""
    acct = c.accounts["auditor"]
    pending = al.login_pending(c.port, acct.name, acct.password, source="127.0.0.2")
    if not c.t.check(pending is not None, "sign-in step one from 127.0.0.2"):
        return
    body = al.form_body({"pending": pending.encode(), "code": al.totp(acct.secret).encode()})
    r = al.request(c.port, "POST", "/login/code", body, al.FORM_TYPE, source="127.0.0.3", timeout=30)
    if c.look("pending id used from another address", r, (400,)):
        c.t.check(r.header("set-cookie") is None, "pending id from another address: no session")
    r = al.request(c.port, "POST", "/login/code", body, al.FORM_TYPE, source="127.0.0.2", timeout=30)
    if c.look("pending id used again from its own address", r, (400,)):
        c.t.check(r.header("set-cookie") is None, "pending id is single use")
    answers = []
    for name, password, src in ((acct.name, acct.password, "127.0.0.4"), ("nobody", "not-the-password-1", "127.0.0.5"),
                                (acct.name, "not-the-password-1", "127.0.0.6")):
        pending = al.login_pending(c.port, name, password, source=src)
        r = al.request(c.port, "POST", "/login/code", al.form_body({"pending": (pending or "").encode(),
                                                                     "code": b"000000"}),
                       al.FORM_TYPE, source=src, timeout=30)
        if c.look(f"wrong code ({'known' if name == acct.name else 'unknown'} account)", r, (401,)):
            c.t.check(r.header("set-cookie") is None, "a failed sign-in sets no cookie")
            answers.append(r.body)
    c.t.check(len(set(answers)) == 1, "every failed sign-in gets the same page", str(len(set(answers))))


def check_pending_flood(c: Console) -> None:
    """One address flooding sign-in step one only pushes out its own older
    pending sign-ins: a sign-in begun from another address before and during
    the flood still completes."""
    acct = c.accounts["auditor"]
    pending = al.login_pending(c.port, acct.name, acct.password, source="127.0.0.67")
    ok = 0
    for _ in range(2000):
        r = al.request(c.port, "POST", "/login", al.form_body({"name": b"flood", "password": b"flood-password-1"}),
                       al.FORM_TYPE, source="127.0.0.66", timeout=30)
        ok += 1 if r is not None and r.status == 200 else 0
    c.t.check(ok == 2000, "every first step of the flood is answered (its own oldest give way)", str(ok))
    c.t.check(pending is not None, "another address got its first step")
    if pending is not None:
        body = al.form_body({"pending": pending.encode(), "code": al.totp(acct.secret).encode()})
        r = al.request(c.port, "POST", "/login/code", body, al.FORM_TYPE, source="127.0.0.67", timeout=30)
        c.look("another address's pending sign-in survives the flood", r, (303,))


def check_ports(c: Console) -> None:
    for method, path, body, ctype in (("POST", "/signup", al.form_body(al.base_person(1)), al.FORM_TYPE),
                                      ("POST", al.OSDI_PATH, al.osdi_body(al.osdi_base(1)), al.JSON_TYPE),
                                      ("GET", "/thanks", b"", None)):
        r = al.request(c.port, method, path, body, ctype)
        c.look(f"console port {method} {path}", r, (404,))
    org = c.sessions.get("organiser")
    for method, path in (("GET", "/login"), ("GET", "/api/v1/me"), ("GET", "/supporters"), ("GET", "/audit"),
                         ("GET", "/accounts"), ("GET", "/api/v1/supporters"), ("GET", "/static/console.css")):
        r = al.console_request(c.intake_port, method, path, session=org)
        c.look(f"intake port {method} {path}", r, (404,))
    r = al.request(c.intake_port, "POST", "/login", b"name=orga&password=whatever-it-is-1", al.FORM_TYPE)
    c.look("intake port POST /login", r, (404, 405))
    c.t.check(c.inst.count()[0] == len(seed_rows()), "nothing posted to the console was stored as a sign-up")


def check_corpus(c: Console) -> None:
    org = c.sessions.get("organiser")
    if org is None or not c.record_id:
        c.t.check(False, "payload corpus: an organiser session and a record to aim at")
        return
    corpus = corpus_mod.load_corpus(None)
    rid = c.record_id
    csrf = org.csrf.encode()
    sent = refused = 0

    def baseline(method, path, body, ctype, session) -> bytes:
        r = al.console_request(c.port, method, path, body, ctype, session=session)
        return r.body if r is not None else b""

    def reflected(payload: bytes, body: bytes, base: bytes, escaped_ok: bool) -> str:
        """Why `body` reflects the payload; "" when it does not."""
        if b"<script" in body.lower() and b"<script" not in base.lower():
            return "raw <script"
        if len(payload) < 4 or payload in base:
            return ""
        if payload in body:
            if escaped_ok and html.escape(payload.decode("utf-8", "replace")).encode() == payload:
                return ""  # nothing to escape: a shown value is the value
            return "payload echoed raw"
        if not escaped_ok:
            text = payload.decode("utf-8", "replace")
            for form in (html.escape(text).encode(), html.escape(text, quote=False).encode()):
                if len(form) >= 4 and form in body and form not in base:
                    return "payload shown (escaped) where nothing typed is shown"
        return ""

    search_base = baseline("POST", "/search", al.form_body({"kind": b"email", "q": b"nobody@example.org",
                                                             "csrf": csrf}), al.FORM_TYPE, org)
    record_base = baseline("GET", f"/supporters/{rid}", b"", None, org)
    login_base = baseline("POST", "/login", b"name=someone&password=some-password-1", al.FORM_TYPE, None)
    api_base = baseline("POST", "/api/v1/supporters/search", b'{"kind":"email","value":"nobody@example.org"}',
                        al.JSON_TYPE, org)

    for stem, payload in corpus:
        cases = [
            ("search.q", "POST", "/search", al.form_body({"kind": b"email", "q": payload, "csrf": csrf}), al.FORM_TYPE,
             org, search_base, False),
            ("search.q[phone]", "POST", "/search", al.form_body({"kind": b"phone", "q": payload, "csrf": csrf}),
             al.FORM_TYPE, org, search_base, False),
            ("search.kind", "POST", "/search", al.form_body({"kind": payload, "q": SEED_EMAIL.encode(), "csrf": csrf}),
             al.FORM_TYPE, org, search_base, False),
            ("api-search.value", "POST", "/api/v1/supporters/search",
             b'{"kind":"email","value":' + al.jstr(payload) + b"}", al.JSON_TYPE, org, api_base, False),
            ("reveal.reason", "POST", f"/supporters/{rid}/reveal",
             al.form_body({"kind": b"email", "reason": payload, "csrf": csrf}), al.FORM_TYPE, org, record_base, False),
            ("tags.add", "POST", f"/supporters/{rid}/tags", al.form_body({"add": payload, "csrf": csrf}),
             al.FORM_TYPE, org, record_base, True),
            ("login.name", "POST", "/login", al.form_body({"name": payload, "password": b"some-password-1"}),
             al.FORM_TYPE, None, login_base, False),
            ("login.password", "POST", "/login", al.form_body({"name": b"someone", "password": payload}),
             al.FORM_TYPE, None, login_base, False),
        ]
        for label, method, path, body, ctype, session, base, escaped_ok in cases:
            what = f"{label} {stem}: {payload[:40]!r}"
            r = al.console_request(c.port, method, path, body, ctype, session=session)
            sent += 1
            if not c.look(what, r):
                continue
            c.t.check(200 <= r.status < 500, f"{what}: a 2xx/3xx/4xx", str(r.status))
            if r.status >= 400:
                refused += 1
            why = reflected(payload, r.body, base, escaped_ok)
            c.t.check(not why, f"{what}: not reflected", why)
            if label == "tags.add" and r.status == 303:
                # Accepted: the record page shows the tag, escaped, and is
                # otherwise the page it was; then the tag goes again.
                page = al.console_request(c.port, "GET", f"/supporters/{rid}", session=org)
                if c.look(f"{what}: record page", page, (200,)):
                    why = reflected(payload, page.body, record_base, True)
                    c.t.check(not why, f"{what}: record page shows the tag safely", why)
                r2 = al.console_request(c.port, "POST", f"/supporters/{rid}/tags",
                                        al.form_body({"remove": payload, "csrf": csrf}), al.FORM_TYPE, session=org)
                c.look(f"{what}: tag removed", r2, (303,))
        # The code step: a fresh pending id each time, the payload as the code.
        # Each from its own loopback address: a payload refused before the
        # code is read leaves its pending sign-in behind, and the console
        # caps those per address.
        src = f"127.0.2.{sent % 250 + 1}"
        pending = al.login_pending(c.port, "someone", "some-password-1", source=src)
        if c.t.check(pending is not None, f"login.code {stem}: step one answered"):
            r = al.request(c.port, "POST", "/login/code", al.form_body({"pending": pending.encode(), "code": payload}),
                           al.FORM_TYPE, source=src, timeout=30)
            sent += 2
            what = f"login.code {stem}: {payload[:40]!r}"
            if c.look(what, r, (400, 401, 413)):
                c.t.check(not reflected(payload, r.body, login_base, False), f"{what}: not reflected")
                c.t.check(r.header("set-cookie") is None, f"{what}: no session cookie")
        r = al.request(c.port, "POST", "/login/code", al.form_body({"pending": payload, "code": b"123456"}),
                       al.FORM_TYPE, timeout=30)
        sent += 1
        c.look(f"login.pending {stem}: {payload[:40]!r}", r, (400, 413))
    c.t.note(f"payload corpus: {len(corpus)} payloads, {sent} requests, {refused} refused with a 4xx")
    r = al.console_request(c.port, "GET", f"/api/v1/supporters/{rid}", session=org)
    ok = r is not None and r.status == 200
    c.t.check(ok and "alpha" in json.loads(r.body).get("tags", []), "the aimed-at record still holds its tag",
              r.body[:300].decode("utf-8", "replace") if r else "")


# ---------------------------------------------------------------------------


def main() -> int:
    args = sys.argv[1:]
    skip_sqlmap = "--skip-sqlmap" in args
    wanted = {a for a in args if not a.startswith("--")}
    al.die_unless_binary()
    tally = al.Tally("console")
    inst = al.Instance(intake={"rate_per_minute": 1000000, "burst": 1000000})
    try:
        inst.edit_section("guard", GUARD_OFF)
        # Long enough for the whole stage on a slow machine.
        inst.edit_section("console", {"session_idle_minutes": 120})
        inst.import_supporters(seed_rows())
        inst.start()
        tally.check(inst.console_port != 0 and inst.console_port != inst.port,
                    "the console listens on its own port", f"{inst.console_port} / {inst.port}")
        c = Console(tally, inst)
        c.sign_in_all()

        t0 = time.monotonic()
        if not skip_sqlmap:
            run_sqlmap(c, wanted)
        tally.note(f"sqlmap part took {time.monotonic() - t0:.0f} s")

        if not wanted:
            t0 = time.monotonic()
            check_no_session(c)
            check_intake_token(c)
            check_host_and_origin(c)
            check_ports(c)
            check_sign_in(c)
            check_pending_flood(c)
            check_corpus(c)
            tally.note(f"socket checks took {time.monotonic() - t0:.0f} s")

        tally.check(inst.alive(), "server still running", inst.log()[-2000:])
        v = inst.cli(["audit", "verify"])
        tally.check(v.returncode == 0, "audit verify passes after the scan", v.stdout[-500:] + v.stderr[-500:])
        inst.stop_and_check(tally)
    finally:
        inst.cleanup()
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
