#!/usr/bin/env python3
"""The admin console under attack, signed in, against a fresh `rempart serve
--role all` (docs/console.md).

Set-up: a few supporters imported with the CLI, an organiser, an admin and an
auditor created with `admin add` and signed in over HTTP (name + password,
then the TOTP code), two more admins (one made "today", inside the approvers'
cooling period, and the insider of check 3a), an `intake` API token, and a
JSONL alert file. The exfiltration guard's budgets are off ([guard] and
[guard.viewer] all 0): the scan sends thousands of list, search and reveal
requests, and the point here is injection, not the guard locking the
scanner out (part 4 turns it on). TOTP codes are computed in Python
(attacklib.totp_step, checked against oathtool): a step-up code must be of a
step the account has not used yet (sign-in included), so the scripts take
the earliest unused step inside the server's +-1 window (fresh_code).

1. sqlmap with each account's session cookie (and the CSRF token as a fixed
   parameter, never tested) on every console input that reaches the store:
   search (page and API), the masked list, reveal, tags, the audit filter
   (page, an actor as the log writes it and by account name; and the API),
   token creation, account creation and unlock requests, request approval,
   self-enrolment (signed out, GET and POST), and both sign-in steps
   unauthenticated (the code step gets a fresh `pending` id before each
   request through sqlmap's --eval; the admin's forms get the current TOTP
   code the same way, so sqlmap never counts toward the admin's lock).
   `--batch --level 2 --risk 2 --dbms SQLite`, bounded as sqlmap_scan.py is.
   Fails on any finding or hint, a 5xx, a dead server, key material, or SQL
   or database text in a response (other than the escaped echo of what the
   request sent, which the audit page legitimately shows as its filter).
2. Raw-socket checks: every route without a session (303 /login or 401), an
   intake token on every API read (403), foreign Host on every route (421),
   cross-site posts (403), the console and intake ports serving nothing of
   each other (404), the payload corpus into the search, reveal reason, tag
   and sign-in fields (a 2xx/3xx/4xx, nothing leaked, nothing reflected), and
   /enrol answering signed out with one fixed page that reveals nothing.
3. The insider's paths, each ending in a refusal and an alert read back from
   the alert file: (a) sock-puppet: one admin alone asks for a new admin and
   an organiser and tries to approve them itself (without a code, with a
   wrong one, with a fresh one; an admin made today tries too): nothing is
   created (`admin list`), privilege_request alerts; the sign-in's own code
   replayed as a step-up code is a 409 and no failure.
4. A second instance with the guard on ([guard] email_per_hour 4, viewers 450
   masked rows an hour, 10 search misses a minute) and no cooling period:
   (b) token multiplication: three reveal tokens, 401 while pending, approved
   by another admin (after a replayed and a wrong code), then e-mails
   revealed round-robin: one budget in total, 403, the creator locked, all
   three tokens 401, a critical reveal_budget alert naming the account; on
   the way an admin made on a colleague's request enrols by its link and may
   not approve that colleague's request; (c) failed-search oracle: a viewer's
   11th miss in a minute is refused, locked, search_misses alert; (d) listing
   enumeration: a viewer paging 200 rows at a time sees at most its row
   budget, then 403, locked, list_budget alert.
5. No personal data in any alert line or refusal; `rempart audit verify`
   passes, the servers stop cleanly, no sanitizer report.

Usage: console_scan.py [--skip-sqlmap] [endpoint ...]
  (naming endpoints runs only those sqlmap targets, nothing else)
  CONSOLE_SQLMAP_LIMIT=seconds per endpoint (default 120).
"""

from __future__ import annotations

import dataclasses
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
WINDOWS = ("per_minute", "per_hour", "per_day")
GUARD_OFF = {f"{k}_{p}": 0 for k in ("name", "email", "phone", "address") for p in ("per_hour", "per_day")}
GUARD_OFF.update({f"masked_rows_{w}": 0 for w in WINDOWS})
GUARD_OFF.update({f"search_misses_{w}": 0 for w in WINDOWS})
VIEWER_OFF = {f"masked_rows_{w}": 0 for w in WINDOWS}  # [guard.viewer]
SEED_EMAIL = "ann.lee@example.org"
ENROL_PROBE = "rmpe_" + "A" * 43  # the shape of an enrolment code, known to nobody


# ---------------------------------------------------------------------------
# Set-up


def without_tag(resp: al.Response | None, tag: bytes) -> al.Response | None:
    """`resp` with an accepted tag's own text taken out, in each form the
    console shows it: as normalised (trimmed, spaces collapsed, lower-cased),
    HTML-escaped, and form-encoded in links."""
    if resp is None:
        return None
    label = " ".join(tag.decode("utf-8", "replace").split()).lower()
    shown = {label, html.escape(label, quote=True).replace("&#x27;", "&#39;"), quote(label, safe=""),
             quote(label, safe="").replace("%20", "+")}
    raw, body = resp.raw, resp.body
    for form in sorted(shown, key=len, reverse=True):
        if form:
            raw = raw.replace(form.encode(), b"")
            body = body.replace(form.encode(), b"")
    return al.Response(resp.status, resp.reason, resp.headers, body, raw)

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
        # An admin the operator made minutes ago: inside the approvers'
        # cooling period ([accounts] approver_cooling_hours, default 24).
        self.recent_admin = inst.add_account("adm2", "admin")
        # The insider of the sock-puppet check: an admin of its own, whose
        # TOTP steps sqlmap does not spend.
        self.mallory = inst.add_account("mallory", "admin")
        self.token = inst.create_token("intake", "website")
        self.sessions: dict[str, al.Session] = {}
        self.record_id = ""
        self.cursor = ""

    def sign_in_all(self) -> None:
        homes = {"organiser": "/supporters", "admin": "/accounts", "auditor": "/audit"}
        for role, acct in self.accounts.items():
            try:
                self.sessions[role] = al.sign_in(self.port, acct)
                self.t.check(True, f"{role} signs in over HTTP")
                self.t.check(self.sessions[role].home == homes[role], f"{role} lands on {homes[role]}",
                             self.sessions[role].home)
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

    def look(self, what: str, r: al.Response | None, statuses: tuple | None = None,
             echoed: bytes | None = None) -> bool:
        """Every raw answer: present, no 5xx, nothing leaked; optionally the status.
        `echoed`: what was typed into a field the page fills in again (escaped);
        that text is the asker's own, so it is taken out before looking for leaks."""
        if not self.t.check(r is not None, f"{what}: answered"):
            return False
        self.t.check(r.status < 500, f"{what}: no 5xx", str(r.status))
        seen = r
        if echoed:
            # As typed, and as a list field shows it again (split at commas,
            # trimmed, joined by ", "), each also lower-cased as a tag is.
            rejoined = b", ".join(p.strip() for p in echoed.split(b",") if p.strip())
            raw, body = r.raw, r.body
            for form in (echoed, rejoined, echoed.lower(), rejoined.lower()):
                if form:
                    raw = raw.replace(console_escaped(form), b"")
                    body = body.replace(console_escaped(form), b"")
            seen = dataclasses.replace(r, raw=raw, body=body)
        bad = [b for b in al.leaks(seen, self.secrets) if b != "version string" or not loopback_only(seen.raw)]
        self.t.check(not bad, f"{what}: nothing leaked", f"{bad}: {r.raw[:300]!r}")
        if statuses is not None:
            return self.t.check(r.status in statuses, f"{what}: status", f"{r.status} not in {statuses}")
        return True


def console_escaped(text: bytes) -> bytes:
    """`text` as the console's pages escape it (console/pages.cpp, esc)."""
    out = text.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    return out.replace(b'"', b"&quot;").replace(b"'", b"&#39;")


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


# A record id that no record holds: the record page's writes are aimed at it
# where a payload must not land on a record other stages read.
NO_RECORD = "0" * 31 + "1"


def targets(c: Console) -> list[Target]:
    rid = c.record_id or "00000000000000000000000000000000"
    csrf = {role: quote(s.csrf, safe="") for role, s in c.sessions.items()}
    audit_actor = quote(f"account:{c.accounts['organiser'].name}", safe="")
    code_eval = al.totp_eval(c.accounts["admin"].secret)
    pending_eval = (
        "import urllib.request as _u, re as _r; "
        "pending = _r.search(b'name=\"pending\" value=\"([^\"]+)\"', _u.build_opener(_u.ProxyHandler({})).open("
        f"_u.Request('http://127.0.0.1:{c.port}/login', data=b'name=nobody&password=not-the-password-1'), "
        "timeout=10).read()).group(1).decode() if pending == 'PENDING' else pending")
    return [
        # The audit filter first, while the log is short: every GET /audit
        # verifies the whole chain.
        Target("audit", "GET", f"/audit?actor={audit_actor}&action=supporter.reveal", ["actor", "action"], "auditor"),
        Target("audit-name", "GET", f"/audit?actor={quote(c.accounts['organiser'].name, safe='')}", ["actor"],
               "auditor"),
        Target("api-audit", "GET",
               f"/api/v1/audit?actor={quote(c.accounts['organiser'].name, safe='')}&action=supporter.reveal",
               ["actor", "action"], "auditor"),
        Target("search", "POST", "/search", ["kind", "q"], "organiser",
               f"kind=email&q={quote(SEED_EMAIL)}&csrf={csrf.get('organiser', '')}"),
        Target("api-search", "POST", "/api/v1/supporters/search", ["kind", "value"], "organiser",
               json.dumps({"kind": "email", "value": SEED_EMAIL}), json_body=True),
        Target("find", "POST", "/search", ["name", "place", "cursor"], "organiser",
               f"kind=find&name=Martin&place=69&cursor=&csrf={csrf.get('organiser', '')}"),
        Target("api-find", "POST", "/api/v1/supporters/search", ["value", "place", "cursor"], "organiser",
               json.dumps({"kind": "name", "value": "Martin", "place": "69", "cursor": ""}), json_body=True),
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
        # Segments: every part of a definition reaches one fixed statement as
        # a bound value (a tag list as JSON); a count changes nothing.
        Target("segment-count", "POST", "/segments",
               ["tags_all", "tags_any", "tags_none", "email", "sms", "signed_up_from", "updated_to", "origin",
                "place"],
               "organiser",
               "op=count&tags_all=alpha&tags_any=alpha&tags_none=beta&email=any&sms=given"
               f"&signed_up_from=2026-01-01&updated_to=2026-12-31&origin=intake&place=69"
               f"&csrf={csrf.get('organiser', '')}"),
        Target("segment-members", "GET", "/supporters?segment=alpha-seg&cursor=x", ["segment", "cursor"], "organiser",
               extra=["--ignore-code", "404"]),
        Target("tag-rename", "POST", "/tags/rename", ["from", "to", "op"], "organiser",
               f"from=alpha&to=alpha-two&op=rename&csrf={csrf.get('organiser', '')}"),
        # sqlmap injects into JSON string values by key, nested ones too.
        Target("api-segment-count", "POST", "/api/v1/segments/count", ["email", "place"], "organiser",
               json.dumps({"definition": {"tags_any": ["alpha"], "email": "given", "place": "69"}}), json_body=True),
        # The record page's writes. A correction aims at the town of the
        # seeded record (its e-mail stays what the searches look for); notes,
        # consents and erasures aim at a record id nobody holds, so the
        # injected text never lands on the record page other stages read
        # (the value is checked before the record is looked up: 400 or 404).
        Target("edit", "POST", f"/supporters/{rid}/edit", ["field", "value", "reason"], "organiser",
               f"field=locality&value=Lyon&reason=moved&csrf={csrf.get('organiser', '')}"),
        Target("api-edit", "POST", f"/api/v1/supporters/{rid}/edit", ["reason"], "organiser",
               json.dumps({"fields": {"locality": "Lyon"}, "reason": "moved"}), json_body=True),
        Target("consent", "POST", f"/supporters/{NO_RECORD}/consent/withdraw", ["channel", "source"], "organiser",
               f"channel=sms&source=letter&csrf={csrf.get('organiser', '')}", extra=["--ignore-code", "404"]),
        Target("note", "POST", f"/supporters/{NO_RECORD}/notes", ["kind", "text"], "organiser",
               f"kind=note&text=call+back+on+Tuesday&csrf={csrf.get('organiser', '')}",
               extra=["--ignore-code", "404"]),
        Target("api-note", "POST", f"/api/v1/supporters/{NO_RECORD}/notes", ["kind", "text"], "organiser",
               json.dumps({"kind": "note", "text": "call back on Tuesday"}), json_body=True,
               extra=["--ignore-code", "404"]),
        # Call lists: the form reaches the segment and account look-ups
        # (no segment "alpha-seg" is saved: 400 / 404 after them), an
        # outcome the look-up of a list the organiser has no share in (404).
        Target("call-list", "POST", "/calls", ["name", "segment", "caller", "starts", "ends", "script"], "organiser",
               "name=evening&segment=alpha-seg&caller=orga&starts=2026-01-01T18:00&ends=2026-01-01T21:00"
               f"&script=Hello&csrf={csrf.get('organiser', '')}", extra=["--ignore-code", "400"]),
        Target("api-call-list", "POST", "/api/v1/call-lists", ["name", "segment", "script"], "organiser",
               json.dumps({"name": "evening", "segment": "alpha-seg", "callers": ["orga"], "starts_at": 1767290400,
                           "ends_at": 1767301200, "script": "Hello"}), json_body=True,
               extra=["--ignore-code", "404"]),
        Target("call-outcome", "POST", "/calls/alpha-calls/outcome", ["entry", "outcome", "text", "op"], "organiser",
               f"entry=1&outcome=called&text=later&op=stop&csrf={csrf.get('organiser', '')}",
               extra=["--ignore-code", "404"]),
        Target("erase", "POST", f"/supporters/{NO_RECORD}/erase", ["reason", "confirm"], "admin",
               f"reason=letter&confirm=erase&csrf={csrf.get('admin', '')}", extra=["--ignore-code", "404"]),
        # The admin's forms take a step-up code: `code=CODE` becomes the code
        # of the current TOTP step in sqlmap's --eval (al.totp_eval), which
        # the server either accepts (once a step) or answers 409 "wait for
        # the next code"; neither counts toward the account's lock, so the
        # admin survives hundreds of requests. A tested `code` stays a
        # payload: those targets are refused before any code is read (the
        # name exists, orga is not locked, no request #1), or a payload
        # would count as a wrong code.
        Target("tokens", "POST", "/tokens", ["label", "scope", "days"], "admin",
               f"label=website&scope=intake&days=30&code=CODE&csrf={csrf.get('admin', '')}",
               extra=["--eval", code_eval]),
        Target("unlock", "POST", "/accounts/orga/unlock", ["reason", "code"], "admin",
               f"reason=locked+by+mistake&code=CODE&csrf={csrf.get('admin', '')}", extra=["--eval", code_eval]),
        Target("approve", "POST", "/requests/1/approve", ["code"], "admin",
               f"code=CODE&csrf={csrf.get('admin', '')}", extra=["--eval", code_eval, "--ignore-code", "404"]),
        Target("accounts", "POST", "/accounts", ["name", "role", "code"], "admin",
               f"name={c.accounts['auditor'].name}&role=viewer&code=CODE&csrf={csrf.get('admin', '')}",
               extra=["--eval", code_eval]),
        # One's own authenticator: the pending set-up is opened with the
        # keeper's key, never looked up; a wrong one is refused (400) without
        # counting against the account.
        Target("own-authenticator", "POST", "/account/authenticator/confirm", ["pending", "issued", "code"],
               "organiser", f"pending=AAAA&issued=1&code=123456&csrf={csrf.get('organiser', '')}",
               extra=["--ignore-code", "400"]),
        # Self-enrolment is signed out by design: the link's code is the only
        # credential, looked up by its hash (404 for anything unknown).
        Target("enrol", "GET", f"/enrol?code={ENROL_PROBE}", ["code"], None, extra=["--ignore-code", "404"]),
        Target("enrol-post", "POST", "/enrol", ["code"], None,
               f"code={ENROL_PROBE}&password=Zq-long-enough-battery-staple-7&password2=Zq-long-enough-battery-staple-7",
               extra=["--ignore-code", "404"]),
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
    # sqlmap's --eval may have spent the admin's current step.
    adm = c.accounts["admin"]
    adm.last_step = max(adm.last_step, al.current_step())
    # The sessions survived the scan (sqlmap tampered with the cookie, never ended it).
    for role, s in c.sessions.items():
        r = al.console_request(c.port, "GET", "/api/v1/me", session=s)
        t.check(r is not None and r.status == 200, f"{role} session still valid after sqlmap")
    info = c.inst.accounts().get(adm.name, {})
    t.check(info.get("state") == "active" and info.get("failures") == 0,
            "sqlmap's step-up codes counted no failure against the admin", str(info))


# ---------------------------------------------------------------------------
# 2. Raw-socket checks


def route_list(c: Console) -> list[tuple[str, str, str]]:
    """(method, path, kind) of every route that needs a session."""
    rid = c.record_id or "00000000000000000000000000000000"
    pages_get = ["/", "/supporters", "/search", f"/supporters/{rid}", "/tags", "/accounts", "/requests", "/tokens",
                 "/sessions", "/account", "/audit", "/exports", "/exports/1/download", "/erase",
                 f"/supporters/{rid}/erase", "/segments", "/segments/new", "/segments/alpha-seg",
                 "/segments/alpha-seg/edit", "/calls", "/calls/alpha-calls", "/selfcheck"]
    pages_post = ["/logout", "/search", f"/supporters/{rid}/reveal", f"/supporters/{rid}/tags", "/accounts",
                  "/accounts/orga/disable", "/accounts/orga/role", "/accounts/orga/unlock", "/accounts/orga/reset-mfa",
                  "/accounts/orga/revoke-sessions", "/accounts/orga/budget", "/requests/1/approve",
                  "/requests/1/refuse", "/tokens", "/tokens/1/revoke", "/sessions/revoke", "/exports",
                  "/exports/1/approve", "/audit/verify", "/accounts/orga/enable", "/account/password",
                  "/account/authenticator", "/account/authenticator/confirm", f"/supporters/{rid}/edit",
                  f"/supporters/{rid}/consent/withdraw", f"/supporters/{rid}/notes", f"/supporters/{rid}/erase",
                  "/segments", "/segments/alpha-seg/tags", "/segments/alpha-seg/delete", "/tags/rename", "/calls",
                  "/calls/alpha-calls/close", "/calls/alpha-calls/next", "/calls/alpha-calls/outcome"]
    api_get = ["/api/v1/me", "/api/v1/supporters", f"/api/v1/supporters/{rid}", "/api/v1/tags", "/api/v1/audit",
               "/api/v1/accounts", f"/api/v1/supporters/{rid}/notes", "/api/v1/segments", "/api/v1/segments/alpha-seg",
               "/api/v1/call-lists", "/api/v1/call-lists/alpha-calls"]
    api_post = ["/api/v1/supporters/search", f"/api/v1/supporters/{rid}/reveal", f"/api/v1/supporters/{rid}/tags",
                "/api/v1/audit/verify", "/api/v1/accounts/orga/enable", "/api/v1/accounts/orga/disable",
                f"/api/v1/supporters/{rid}/edit", f"/api/v1/supporters/{rid}/consent/withdraw",
                f"/api/v1/supporters/{rid}/notes", f"/api/v1/supporters/{rid}/erase", "/api/v1/segments",
                "/api/v1/segments/count", "/api/v1/segments/alpha-seg/tags", "/api/v1/segments/alpha-seg/delete",
                "/api/v1/tags/rename", "/api/v1/call-lists", "/api/v1/call-lists/alpha-calls/next",
                "/api/v1/call-lists/alpha-calls/outcome", "/api/v1/call-lists/alpha-calls/close"]
    return ([("GET", p, "page") for p in pages_get] + [("POST", p, "page") for p in pages_post] +
            [("GET", p, "api") for p in api_get] + [("POST", p, "api") for p in api_post])


# Signed out by design: the enrolment link's code is the credential.
ENROL_ROUTES = [("GET", "/enrol", "public"), ("GET", f"/enrol?code={ENROL_PROBE}", "public"),
                ("POST", "/enrol", "public"), ("POST", "/enrol/confirm", "public")]


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
             ("POST", f"/api/v1/supporters/{rid}/tags", b'{"add":["intake-was-here"]}'),
             ("POST", f"/api/v1/supporters/{rid}/edit", b'{"fields":{"locality":"Lyon"},"reason":"intake"}'),
             ("POST", f"/api/v1/supporters/{rid}/consent/withdraw", b'{"channel":"sms","source":"letter"}'),
             ("POST", f"/api/v1/supporters/{rid}/notes", b'{"kind":"note","text":"intake was here"}'),
             ("GET", f"/api/v1/supporters/{rid}/notes", b""),
             ("POST", f"/api/v1/supporters/{rid}/erase", b'{"reason":"letter","confirm":"erase"}'),
             ("GET", "/api/v1/audit", b""), ("POST", "/api/v1/audit/verify", b'{"actor":""}')]
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
    # Every route, the public enrolment ones included, refuses a foreign
    # Host before anything else (DNS rebinding).
    admin = c.sessions.get("admin") or org
    for method, path, kind in route_list(c) + ENROL_ROUTES:
        body, ctype = (b"", None)
        if method == "POST":
            body, ctype = (b"{}", al.JSON_TYPE) if kind == "api" else (b"csrf=x", al.FORM_TYPE)
        r = al.console_request(c.port, method, path, body, ctype, session=admin if kind != "public" else None,
                               headers={"Host": "rebind.evil.example"})
        c.look(f"{method} {path} with a foreign Host", r, (421,))
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
        body = al.form_body({"pending": pending.encode(), "code": al.fresh_code(acct, margin=15).encode()})
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
    # One's own account: two different new passwords are refused before any
    # password or code is checked, so no payload counts towards a lock.
    account_base = baseline("POST", "/account/password",
                            al.form_body({"current": b"x", "password": b"a", "password2": b"b", "csrf": csrf}),
                            al.FORM_TYPE, org)
    segment_base = baseline("POST", "/segments", al.form_body({"op": b"count", "tags_all": b"alpha", "csrf": csrf}),
                            al.FORM_TYPE, org)
    members_base = baseline("GET", "/supporters?segment=absent", b"", None, org)
    rename_base = baseline("POST", "/tags/rename",
                           al.form_body({"from": b"absent", "to": b"other", "op": b"rename", "csrf": csrf}),
                           al.FORM_TYPE, org)
    calls_base = baseline("POST", "/calls", al.form_body({"name": b"evening", "segment": b"alpha-seg",
                                                          "starts": b"x", "ends": b"x", "csrf": csrf}),
                          al.FORM_TYPE, org)
    outcome_base = baseline("POST", "/calls/alpha-calls/outcome",
                            al.form_body({"entry": b"1", "outcome": b"called", "csrf": csrf}), al.FORM_TYPE, org)
    confirm_base = baseline("POST", "/account/authenticator/confirm",
                            al.form_body({"pending": b"AAAA", "issued": b"1", "code": b"123456", "csrf": csrf}),
                            al.FORM_TYPE, org)

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
            # A name and place search fills its form in again (escaped).
            ("find.name", "POST", "/search", al.form_body({"kind": b"find", "name": payload, "place": b"69",
                                                          "csrf": csrf}), al.FORM_TYPE, org, search_base, True),
            ("find.place", "POST", "/search", al.form_body({"kind": b"find", "name": b"martin", "place": payload,
                                                           "csrf": csrf}), al.FORM_TYPE, org, search_base, True),
            ("find.cursor", "POST", "/search", al.form_body({"kind": b"find", "name": b"martin", "cursor": payload,
                                                            "csrf": csrf}), al.FORM_TYPE, org, search_base, False),
            ("api-find.value", "POST", "/api/v1/supporters/search",
             b'{"kind":"name","value":' + al.jstr(payload) + b',"place":' + al.jstr(payload) + b"}", al.JSON_TYPE,
             org, api_base, False),
            ("reveal.reason", "POST", f"/supporters/{rid}/reveal",
             al.form_body({"kind": b"email", "reason": payload, "csrf": csrf}), al.FORM_TYPE, org, record_base, False),
            ("tags.add", "POST", f"/supporters/{rid}/tags", al.form_body({"add": payload, "csrf": csrf}),
             al.FORM_TYPE, org, record_base, True),
            # The record page's writes: a correction of the seeded record's
            # town (never shown in full) and of its reason; notes and
            # consents on a record nobody holds (validated first: 400 or 404).
            ("edit.value", "POST", f"/supporters/{rid}/edit",
             al.form_body({"field": b"locality", "value": payload, "reason": b"corpus", "csrf": csrf}),
             al.FORM_TYPE, org, record_base, False),
            ("edit.reason", "POST", f"/supporters/{rid}/edit",
             al.form_body({"field": b"locality", "value": b"Lyon", "reason": payload, "csrf": csrf}),
             al.FORM_TYPE, org, record_base, False),
            ("edit.field", "POST", f"/supporters/{rid}/edit",
             al.form_body({"field": payload, "value": b"Lyon", "reason": b"corpus", "csrf": csrf}),
             al.FORM_TYPE, org, record_base, False),
            ("note.text", "POST", f"/supporters/{NO_RECORD}/notes",
             al.form_body({"kind": b"note", "text": payload, "csrf": csrf}), al.FORM_TYPE, org, record_base, False),
            ("consent.source", "POST", f"/supporters/{NO_RECORD}/consent/withdraw",
             al.form_body({"channel": b"sms", "source": payload, "csrf": csrf}), al.FORM_TYPE, org, record_base,
             False),
            ("password.current", "POST", "/account/password",
             al.form_body({"current": payload, "password": b"Zq-long-enough-1", "password2": b"Zq-long-enough-2",
                           "csrf": csrf}), al.FORM_TYPE, org, account_base, False),
            ("password.new", "POST", "/account/password",
             al.form_body({"current": b"x", "password": payload, "password2": payload + b"-", "csrf": csrf}),
             al.FORM_TYPE, org, account_base, False),
            ("authenticator.pending", "POST", "/account/authenticator/confirm",
             al.form_body({"pending": payload, "issued": b"1", "code": b"123456", "csrf": csrf}), al.FORM_TYPE, org,
             confirm_base, False),
            ("authenticator.code", "POST", "/account/authenticator/confirm",
             al.form_body({"pending": b"AAAA", "issued": payload, "code": payload, "csrf": csrf}), al.FORM_TYPE, org,
             confirm_base, False),
            ("segment.tags_all", "POST", "/segments",
             al.form_body({"op": b"count", "tags_all": payload, "csrf": csrf}), al.FORM_TYPE, org, segment_base, True),
            ("segment.signed_up_from", "POST", "/segments",
             al.form_body({"op": b"count", "signed_up_from": payload, "csrf": csrf}), al.FORM_TYPE, org, segment_base,
             False),
            # A place with a letter or digit is kept and fills the form in again (escaped).
            ("segment.place", "POST", "/segments",
             al.form_body({"op": b"count", "place": payload, "csrf": csrf}), al.FORM_TYPE, org, segment_base, True),
            ("segment.name", "POST", "/segments",
             al.form_body({"op": b"count", "name": payload, "origin": payload, "csrf": csrf}), al.FORM_TYPE, org,
             segment_base, True),
            ("segment-members.segment", "GET", "/supporters?segment=" + quote(payload, safe=""), b"", None, org,
             members_base, False),
            ("tag-rename.from", "POST", "/tags/rename",
             al.form_body({"from": payload, "to": b"other", "op": b"rename", "csrf": csrf}), al.FORM_TYPE, org,
             rename_base, True),
            # A call list without a caller is refused before anything is
            # written; its name and script are filled in again (escaped).
            ("calls.name", "POST", "/calls",
             al.form_body({"name": payload, "segment": b"alpha-seg", "starts": b"2026-01-01T18:00",
                           "ends": b"2026-01-01T21:00", "script": payload, "csrf": csrf}), al.FORM_TYPE, org,
             calls_base, True),
            ("calls.window", "POST", "/calls",
             al.form_body({"name": b"evening", "segment": payload, "caller": payload, "starts": payload,
                           "ends": payload, "csrf": csrf}), al.FORM_TYPE, org, calls_base, False),
            ("calls.outcome", "POST", "/calls/alpha-calls/outcome",
             al.form_body({"entry": payload, "outcome": payload, "text": payload, "op": b"stop", "csrf": csrf}),
             al.FORM_TYPE, org, outcome_base, False),
            ("login.name", "POST", "/login", al.form_body({"name": payload, "password": b"some-password-1"}),
             al.FORM_TYPE, None, login_base, False),
            ("login.password", "POST", "/login", al.form_body({"name": b"someone", "password": payload}),
             al.FORM_TYPE, None, login_base, False),
        ]
        for label, method, path, body, ctype, session, base, escaped_ok in cases:
            what = f"{label} {stem}: {payload[:40]!r}"
            r = al.console_request(c.port, method, path, body, ctype, session=session)
            sent += 1
            if not c.look(what, r, echoed=payload if escaped_ok else None):
                continue
            c.t.check(200 <= r.status < 500, f"{what}: a 2xx/3xx/4xx", str(r.status))
            if r.status >= 400:
                refused += 1
            why = reflected(payload, r.body, base, escaped_ok)
            c.t.check(not why, f"{what}: not reflected", why)
            if label == "tags.add" and r.status == 303:
                # Accepted: the record page shows the tag, escaped, and is
                # otherwise the page it was; then the tag goes again. A tag
                # is a label the organiser wrote ("../etc" or "select … from"
                # are labels too): its own text, as the page shows it, is
                # taken out before the page is searched for leaks.
                page = al.console_request(c.port, "GET", f"/supporters/{rid}", session=org)
                if c.look(f"{what}: record page", without_tag(page, payload), (200,)):
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
# 3. Insider paths, as the attacker's scripts ran them (each ends in a
# refusal and an alert read back from the instance's JSONL alert sink)

REQUEST_RE = re.compile(rb"Request #(\d+)")
TOKEN_RE = re.compile(rb"\b(rmp_[A-Za-z2-7]{8}_[A-Za-z0-9_-]{20,})")


def pii_of(rows: list[dict]) -> list[bytes]:
    """The personal data of seeded rows as it could appear in a line: full
    names, e-mail addresses, phone numbers (E.164 and national)."""
    out = []
    for r in rows:
        out.append(f"{r['given_name']} {r['family_name']}".encode())
        out.append(r["email"].encode())
        out.append(r["phone"].encode())
        if r["phone"].startswith("+33"):
            out.append(("0" + r["phone"][3:]).encode())
    return out


def no_pii(t: al.Tally, what: str, data: bytes, pii: list[bytes]) -> bool:
    hits = [p for p in pii if p in data]
    return t.check(not hits, f"{what}: no personal data", repr(hits[:3]))


def check_alert_lines(t: al.Tally, inst: al.Instance, label: str, pii: list[bytes]) -> None:
    """Every alert line (the JSONL file and the stderr JSON in the serve
    log) is JSON and carries no personal data."""
    lines = inst.alerts()
    t.check(bool(lines), f"{label}: the alert file holds alerts")
    t.check(all(a is not None for _, a in lines), f"{label}: every alert line is JSON",
            repr([raw[:200] for raw, a in lines if a is None][:2]))
    no_pii(t, f"{label}: alert file", "\n".join(raw for raw, _ in lines).encode(), pii)
    stderr_alerts = [ln for ln in inst.log().splitlines() if ln.startswith('{"actor"')]
    no_pii(t, f"{label}: stderr alerts", "\n".join(stderr_alerts).encode(), pii)


def alert_of(inst: al.Instance, kind: str, timeout: float = 5, **details) -> dict | None:
    """The first alert of `kind` whose details hold every given value."""
    def match(a: dict) -> bool:
        d = a.get("details") or {}
        return a.get("kind") == kind and all(d.get(k) == v for k, v in details.items())
    return inst.wait_alert(match, timeout)


def file_request(c_port: int, s: al.Session, target: str, fields: dict, code: str | None) -> tuple[al.Response | None, int]:
    """Posts a privilege request form; the answer and the request number
    its receipt shows (0 when none)."""
    r = al.post_form(c_port, s, target, fields, code=code)
    m = REQUEST_RE.search(r.body) if r is not None and r.status == 200 else None
    return r, int(m.group(1)) if m else 0


def check_sock_puppet(c: Console) -> None:
    """Finding a: one admin session alone tries to make the second person
    its own exports and reveals need (a new admin, an organiser) and to
    approve its own requests. Also: the code the admin just signed in with,
    replayed as a step-up code, is a clear 409 and no failure."""
    t, inst, port = c.t, c.inst, c.port
    adm = c.mallory
    pii = pii_of(seed_rows())
    try:
        s = al.sign_in(port, adm, source="127.0.0.21")
    except RuntimeError as e:
        t.check(False, "sock-puppet: the admin signs in", str(e))
        return
    t.check(s.home == "/accounts", "sock-puppet: an admin lands on /accounts", s.home)

    # The sign-in's own code, typed again for a step-up.
    r = al.post_form(port, s, "/tokens", {"label": "replayed-code", "scope": "intake", "days": 1},
                     code=al.totp_step(adm.secret, s.signin_step))
    if c.look("step-up with the code just used to sign in", r, (409,)):
        t.check(b"Wait for the next code" in r.body, "replayed code: told to wait for the next code")
    t.check(inst.accounts()[adm.name]["failures"] == 0, "a replayed code does not count as a failure",
            str(inst.accounts()[adm.name]))

    def refused(what: str, r: al.Response | None, status: int, text: bytes) -> None:
        if c.look(what, r, (status,)):
            t.check(text in r.body, f"{what}: explained", r.body[-400:].decode("utf-8", "replace"))
            no_pii(t, what, r.raw, pii)

    # Filing without a code, and with a wrong one: refused, counted.
    r, n = file_request(port, s, "/accounts", {"name": "puppet", "role": "admin"}, None)
    refused("sock-puppet: a new admin requested without a code", r, 403, b"Code not accepted")
    r, n = file_request(port, s, "/accounts", {"name": "puppet", "role": "admin"}, al.wrong_code(adm))
    refused("sock-puppet: a new admin requested with a wrong code", r, 403, b"Code not accepted")
    t.check(inst.accounts()[adm.name]["failures"] == 2, "a missing and a wrong step-up code count toward the lock",
            str(inst.accounts()[adm.name]))
    # Changes to its own account: refused before any code is read.
    for verb, fields in (("role", {"role": "organiser"}), ("unlock", {"reason": "self service"}), ("reset-mfa", {}),
                         ("budget", {"counted": "email", "per_hour": 1000, "per_day": 1000, "hours": 168})):
        r, n = file_request(port, s, f"/accounts/{adm.name}/{verb}", fields, None)
        refused(f"sock-puppet: {verb} of its own account", r, 403, b"Another admin must ask")
    t.check(inst.accounts()[adm.name]["failures"] == 2, "own-account requests are refused before the code")

    # With fresh codes: requests only, each shown with its number.
    r, puppet = file_request(port, s, "/accounts", {"name": "puppet", "role": "admin"}, al.fresh_code(adm))
    link = al.ENROL_LINK_RE.search(r.body) if r is not None else None
    if c.look("sock-puppet: a new admin requested with a fresh code", r, (200,)):
        t.check(puppet > 0 and b"Request filed" in r.body, "the new admin is a request", r.body[:300])
        t.check(link is not None, "the request shows its enrolment link once")
        t.check(b"otpauth" not in r.body and b"rmpx1_" not in r.body,
                "the requester sees no TOTP set-up and no export key")
    t.check(inst.accounts()[adm.name]["failures"] == 0, "a code accepted clears the failures")
    # Approving its own request with the next fresh code: refused before
    # the code is read, so the same code still files the next request.
    r = al.post_form(port, s, f"/requests/{puppet}/approve", code=al.fresh_code(adm, spend=False))
    refused(f"sock-puppet: approving its own request #{puppet} with a fresh code", r, 403,
            b"another admin must approve")
    r, puppet2 = file_request(port, s, "/accounts", {"name": "puppet2", "role": "organiser"}, al.fresh_code(adm))
    if c.look("sock-puppet: a new organiser requested (with the code the approval did not spend)", r, (200,)):
        t.check(puppet2 > 0 and b"Request filed" in r.body, "the new organiser is a request")
    r = al.post_form(port, s, f"/requests/{puppet2}/approve", code=al.wrong_code(adm))
    refused(f"sock-puppet: approving its own request #{puppet2} with a wrong code", r, 403,
            b"another admin must approve")
    t.check(inst.accounts()[adm.name]["failures"] == 0, "a refused approver spends no guess")

    # The link opens nothing before another admin approves: the same page
    # as a code nobody issued.
    probe = al.request(port, "GET", f"/enrol?code={ENROL_PROBE}", source="127.0.0.21")
    if link is not None:
        r = al.request(port, "GET", "/enrol?code=" + link.group(1).decode(), source="127.0.0.21")
        if c.look("sock-puppet: the enrolment link before approval", r, (404,)):
            t.check(probe is not None and r.body == probe.body and b"puppet" not in r.body,
                    "a pending link looks like an unknown one")
    # Its own requests are listed without an approve form.
    r = al.console_request(port, "GET", "/requests", session=s, source=s.source)
    if c.look("sock-puppet: the requests page", r, (200,)):
        t.check(b"puppet" in r.body and b"puppet2" in r.body, "both requests are listed")
        t.check(f"/requests/{puppet}/approve".encode() not in r.body and
                f"/requests/{puppet2}/approve".encode() not in r.body, "no approve form on one's own requests")

    # An admin the operator made today is no second person either.
    try:
        s2 = al.sign_in(port, c.recent_admin, source="127.0.0.22")
        r = al.post_form(port, s2, f"/requests/{puppet}/approve", code=al.fresh_code(c.recent_admin))
        refused("an admin inside the cooling period approves", r, 403, b"Too recent to approve")
    except RuntimeError as e:
        t.check(False, "the recent admin signs in", str(e))

    accounts = inst.accounts()
    t.check("puppet" not in accounts and "puppet2" not in accounts, "admin list: no new account exists",
            str(sorted(accounts)))
    t.check(accounts.get("orga", {}).get("role") == "organiser" and accounts[adm.name]["state"] == "active",
            "admin list: nothing else changed", str(accounts))
    for n, what in ((puppet, "admin"), (puppet2, "organiser")):
        a = alert_of(inst, "privilege_request", request=n)
        t.check(a is not None and a.get("severity") == "warning" and a.get("actor") == s.actor and
                (a.get("details") or {}).get("kind") == "create_account",
                f"sock-puppet: a privilege_request alert for the new {what}", str(a))
        t.check(alert_of(inst, "privilege_approved", timeout=0, request=n) is None,
                f"sock-puppet: nothing approved the new {what}")
    # Withdrawn; the link stays dead.
    for n in (puppet, puppet2):
        r = al.post_form(port, s, f"/requests/{n}/refuse")
        c.look(f"sock-puppet: request #{n} withdrawn", r, (303,))
    if link is not None:
        r = al.request(port, "GET", "/enrol?code=" + link.group(1).decode(), source="127.0.0.21")
        c.look("sock-puppet: the enrolment link after withdrawal", r, (404,))
    t.note(f"sock-puppet: requests #{puppet} (admin) and #{puppet2} (organiser) filed, every self-approval refused, "
           f"accounts now {sorted(accounts)}")


def check_enrol_public(c: Console) -> None:
    """/enrol answers without a session (the link's code is the credential)
    and shows nothing for a code it does not know: one fixed page."""
    t, port = c.t, c.port
    names = [a.name.encode() for a in list(c.accounts.values()) + [c.recent_admin, c.mallory]]
    pages = []
    cases = [("GET", "/enrol", b"", None), ("GET", "/enrol?code=", b"", None),
             ("GET", f"/enrol?code={ENROL_PROBE}", b"", None), ("GET", "/enrol?code=not-an-enrolment-code", b"", None),
             ("GET", f"/enrol?code={ENROL_PROBE}&code=rmpe_x", b"", None),
             ("POST", "/enrol", al.form_body({"code": ENROL_PROBE.encode(), "password": b"Zq-long-enough-staple-7",
                                              "password2": b"Zq-long-enough-staple-7"}), al.FORM_TYPE),
             ("POST", "/enrol", al.form_body({"code": c.token.encode(), "password": b"Zq-long-enough-staple-7",
                                              "password2": b"Zq-long-enough-staple-7"}), al.FORM_TYPE),
             ("POST", "/enrol/confirm", al.form_body({"code": ENROL_PROBE.encode(), "totp": b"123456"}), al.FORM_TYPE),
             ("POST", "/enrol/confirm", b"", al.FORM_TYPE)]
    for method, target, body, ctype in cases:
        for label, headers in (("signed out", {}), ("forged cookie", {"Cookie": "rempart_session=AAAAAAAAAAAAAAAA"}),
                               ("an intake token", {"Authorization": f"Bearer {c.token}"})):
            r = al.console_request(port, method, target, body, ctype, headers=headers)
            what = f"{method} {target[:40]} ({label})"
            if c.look(what, r, (404,)):
                t.check(r.header("set-cookie") is None, f"{what}: no cookie")
                named = [n for n in names if re.search(rb"\b" + re.escape(n) + rb"\b", r.body)]
                t.check(not named and b"otpauth" not in r.body and b"rmpe_" not in r.body
                        and c.token.encode() not in r.body, f"{what}: reveals nothing", f"{named} {r.body[-400:]!r}")
                pages.append(r.body)
    t.check(len(set(pages)) == 1, "every unknown enrolment code gets the same page", str(len(set(pages))))


# --- the guard instance: budgets on, no cooling period ----------------------

G_EMAIL_PER_HOUR = 4
G_VIEWER_ROWS_PER_HOUR = 450
G_ROWS = 250
G_MISSES_PER_MINUTE = 10  # the default


def guard_rows() -> list[dict]:
    return [{"given_name": f"Quill{i:03d}", "family_name": f"Marrow{i:03d}",
             "email": f"quill{i:03d}.marrow@example.org", "phone": f"+3361990{i:04d}",
             "postal_code": "33000", "tags": "gamma"} for i in range(G_ROWS)]


def wait_for_window(seconds: int, room: float) -> None:
    """Sleeps into the next budget window when fewer than `room` seconds
    are left in this one (counters are per aligned minute, hour, day)."""
    left = seconds - time.time() % seconds
    if left < room:
        time.sleep(left + 0.5)


class Guarded:
    """A second instance as an insider would meet it in production:
    budgets on ([guard] email_per_hour 4, [guard.viewer] 450 rows an hour,
    search misses 10 a minute), approvers without a cooling period so two
    admins can approve each other's requests, alerts to a JSONL file."""

    def __init__(self, tally: al.Tally):
        self.t = tally
        self.inst = al.Instance()
        try:
            self.set_up()
        except BaseException:
            self.inst.cleanup()  # stops a server that started but is not usable
            raise

    def set_up(self) -> None:
        inst = self.inst
        inst.alert_file()
        inst.edit_section("guard", {"email_per_hour": G_EMAIL_PER_HOUR, "email_per_day": 60,
                                    "search_misses_per_minute": G_MISSES_PER_MINUTE})
        inst.edit_section("guard.viewer", {"masked_rows_per_minute": 0, "masked_rows_per_hour": G_VIEWER_ROWS_PER_HOUR,
                                           "masked_rows_per_day": 1000})
        inst.edit_section("accounts", {"approver_cooling_hours": 0})
        inst.edit_section("console", {"session_idle_minutes": 120})
        self.rows = guard_rows()
        self.pii = pii_of(self.rows)
        inst.import_supporters(self.rows)
        self.acct = {name: inst.add_account(name, role) for name, role in
                     (("boss", "admin"), ("rogue", "admin"), ("peer", "admin"), ("ally", "admin"),
                      ("vsearch", "viewer"), ("vlist", "viewer"))}
        inst.start()
        self.port = inst.console_port
        self.secrets = inst.secrets()

    def look(self, what: str, r: al.Response | None, statuses: tuple) -> bool:
        """Present, no 5xx, nothing leaked, no personal data on a refusal;
        then the status."""
        if not self.t.check(r is not None, f"{what}: answered"):
            return False
        self.t.check(r.status < 500, f"{what}: no 5xx", str(r.status))
        bad = [b for b in al.leaks(r, self.secrets) if b != "version string" or not loopback_only(r.raw)]
        self.t.check(not bad, f"{what}: nothing leaked", f"{bad}: {r.raw[:300]!r}")
        if r.status >= 300:
            no_pii(self.t, what, r.raw, self.pii)
        return self.t.check(r.status in statuses, f"{what}: status", f"{r.status} not in {statuses}")

    def sign_in(self, name: str, source: str) -> al.Session | None:
        try:
            return al.sign_in(self.port, self.acct[name], source=source)
        except RuntimeError as e:
            self.t.check(False, f"{name} signs in", str(e))
            return None


def check_token_multiplication(g: Guarded) -> None:
    """Finding b: an admin asks for three reveal tokens to triple its
    budget. They open nothing while pending; once another admin approves,
    all three spend the one budget of the account that made them: exactly
    one budget is served, then 403, the account is locked, every token
    stops and a critical reveal_budget alert names the account. On the way:
    a wrong approval code is refused and changes nothing, and an admin made
    on a colleague's request cannot approve that colleague's requests."""
    t, inst, port = g.t, g.inst, g.port
    rs = g.sign_in("rogue", "127.0.0.31")
    if rs is None:
        return
    rogue, boss = g.acct["rogue"], g.acct["boss"]
    tokens: list[str] = []
    requests: list[int] = []

    def ask(i: int) -> None:
        r, n = file_request(port, rs, "/tokens", {"label": f"bulk{i}", "scope": "reveal", "days": 1},
                            al.fresh_code(rogue))
        m = TOKEN_RE.search(r.body) if r is not None else None
        if g.look(f"reveal token {i} requested", r, (200,)) and t.check(n > 0 and m is not None,
                                                                      f"reveal token {i}: a request and its token"):
            tokens.append(m.group(1).decode())
            requests.append(n)

    def me(token: str) -> al.Response | None:
        return al.api_call(port, "GET", "/api/v1/me", token=token, source="127.0.0.36")

    def approve(n: int) -> None:
        r = al.post_form(port, bs, f"/requests/{n}/approve", code=al.fresh_code(boss))
        g.look(f"request #{n} approved by another admin", r, (303,))

    ask(0)
    ask(1)
    for i, tok in enumerate(tokens):
        r = me(tok)
        g.look(f"pending reveal token {i} on /api/v1/me", r, (401,))
    if tokens:
        r = al.api_call(port, "GET", "/api/v1/supporters?limit=5", token=tokens[0], source="127.0.0.36")
        g.look("pending reveal token lists", r, (401,))
    bs = g.sign_in("boss", "127.0.0.32")
    if bs is None or not requests:
        return
    # The approver types the code it has just signed in with: a clear wait,
    # no failure. Then a wrong code: refused, counted, nothing applied.
    r = al.post_form(port, bs, f"/requests/{requests[0]}/approve", code=al.totp_step(boss.secret, bs.signin_step))
    if g.look("approval with the code the approver just signed in with", r, (409,)):
        t.check(b"Wait for the next code" in r.body, "approval with a replayed code: told to wait")
    t.check(inst.accounts()["boss"]["failures"] == 0, "a replayed approval code is no failure",
            str(inst.accounts()["boss"]))
    r = al.post_form(port, bs, f"/requests/{requests[0]}/approve", code=al.wrong_code(boss))
    if g.look("approval with a wrong code", r, (403,)):
        t.check(b"Code not accepted" in r.body, "approval with a wrong code: explained")
    t.check(inst.accounts()["boss"]["failures"] == 1, "a wrong approval code counts toward the lock",
            str(inst.accounts()["boss"]))
    g.look("the token after a replayed and a wrong approval code", me(tokens[0]), (401,))
    for n in requests:
        approve(n)
    check_puppet_is_no_second_person(g)  # fills the wait for rogue's next code
    ask(2)
    if len(requests) == 3:
        approve(requests[2])
    if not t.check(len(tokens) == 3, "three reveal tokens approved", str(len(tokens))):
        return
    for i, tok in enumerate(tokens):
        r = me(tok)
        if g.look(f"approved reveal token {i} on /api/v1/me", r, (200,)):
            t.check(json.loads(r.body).get("scope") == "reveal", f"token {i} has scope reveal")
    for n in requests:
        a = alert_of(inst, "privilege_request", request=n)
        t.check(a is not None and (a.get("details") or {}).get("kind") == "reveal_token",
                f"privilege_request alert for token request #{n}", str(a))
        t.check(alert_of(inst, "privilege_approved", request=n) is not None, f"privilege_approved alert for #{n}")

    r = al.api_call(port, "GET", "/api/v1/supporters?limit=20", token=tokens[0], source="127.0.0.36")
    ids = [x["id"] for x in json.loads(r.body)["items"]] if r is not None and r.status == 200 else []
    if not t.check(len(ids) == 20, "the token lists 20 records to reveal", str(r.status if r else None)):
        return
    wait_for_window(3600, 60)
    served, last = 0, None
    for i in range(4 * G_EMAIL_PER_HOUR):
        r = al.api_call(port, "POST", f"/api/v1/supporters/{ids[i]}/reveal",
                        {"fields": ["email"], "reason": "checking a bounce"}, token=tokens[i % 3], source="127.0.0.36")
        last = r
        if r is None or r.status != 200:
            break
        served += 1
    t.check(served == G_EMAIL_PER_HOUR, "three tokens get one budget between them",
            f"{served} e-mails served, budget {G_EMAIL_PER_HOUR}")
    t.note(f"token multiplication: {served} e-mails served over 3 tokens (email_per_hour {G_EMAIL_PER_HOUR}), "
           f"then {last.status if last else None}")
    if g.look("the reveal past the budget", last, (403,)):
        t.check(json.loads(last.body).get("error") == "locked", "the reveal past the budget: locked")
    info = inst.accounts().get("rogue", {})
    t.check(info.get("state") == "locked" and "reveal_budget" in info.get("reason", ""),
            "admin list: the tokens' creator is locked", str(info))
    for i, tok in enumerate(tokens):
        g.look(f"reveal token {i} after the lock", me(tok), (401,))
        r = al.api_call(port, "POST", f"/api/v1/supporters/{ids[-1]}/reveal",
                        {"fields": ["email"], "reason": "checking a bounce"}, token=tok, source="127.0.0.36")
        g.look(f"reveal token {i} reveals after the lock", r, (401,))
    r = al.console_request(port, "GET", "/api/v1/me", session=rs, source=rs.source)
    g.look("the creator's session after the lock", r, (401,))
    a = alert_of(inst, "reveal_budget")
    t.check(a is not None and a.get("severity") == "critical" and (a.get("details") or {}).get("account") == rs.actor
            and str(a.get("actor", "")).startswith("token:"),
            "a critical reveal_budget alert names the creator account", str(a))


def check_puppet_is_no_second_person(g: Guarded) -> None:
    """Even when an honest admin approves a colleague's new admin, that
    admin (enrolled by the link, over HTTP, as its owner would) can never
    approve the colleague's requests."""
    t, inst, port = g.t, g.inst, g.port
    ps = g.sign_in("peer", "127.0.0.33")
    al_s = g.sign_in("ally", "127.0.0.34")
    if ps is None or al_s is None:
        return
    peer, ally = g.acct["peer"], g.acct["ally"]
    r, n = file_request(port, ps, "/accounts", {"name": "puppet", "role": "admin"}, al.fresh_code(peer))
    link = al.ENROL_LINK_RE.search(r.body) if r is not None else None
    if not (g.look("peer asks for a new admin", r, (200,)) and t.check(link is not None and n > 0,
                                                                        "the receipt holds the enrolment link")):
        return
    r = al.post_form(port, al_s, f"/requests/{n}/approve", code=al.fresh_code(ally))
    g.look("ally approves the new admin", r, (303,))
    code = link.group(1).decode()
    puppet, answers = al.enrol(port, code, "puppet", "admin", source="127.0.0.35")
    t.check(puppet is not None, "the new admin enrols with the link (password, authenticator, first code)",
            str([(x.status if x else None) for x in answers]))
    if puppet is None:
        return
    t.check(answers[-1].header("location") == "/login?enrolled=1", "enrolment ends on /login?enrolled=1")
    t.check(alert_of(inst, "account_enrolled") is not None, "an account_enrolled alert")
    r = al.request(port, "GET", "/enrol?code=" + code, source="127.0.0.35")
    g.look("the enrolment link once used", r, (404,))
    # peer asks for something; the admin made on peer's request may not approve it.
    r, m = file_request(port, ps, "/accounts/vlist/budget",
                        {"counted": "masked", "per_minute": 0, "per_hour": 100000, "per_day": 100000, "hours": 8},
                        al.fresh_code(peer))
    g.look("peer asks to raise a viewer's row budget", r, (200,))
    try:
        pus = al.sign_in(port, puppet, source="127.0.0.35")
    except RuntimeError as e:
        t.check(False, "the enrolled admin signs in", str(e))
        return
    r = al.post_form(port, pus, f"/requests/{m}/approve", code=al.fresh_code(puppet))
    if g.look("the colleague's new admin approves the colleague's request", r, (403,)):
        t.check(b"independent" in r.body, "refused as not independent", r.body[-300:])
    r = al.post_form(port, ps, f"/requests/{m}/refuse")
    g.look("peer withdraws the budget request", r, (303,))


def check_search_misses(g: Guarded) -> None:
    """Finding c: a viewer checks a leaked list against the directory by
    exact search, as fast as it can. After search_misses_per_minute misses
    the next search is refused, the account is locked, an alert goes out."""
    t, inst, port = g.t, g.inst, g.port
    s = g.sign_in("vsearch", "127.0.0.41")
    if s is None:
        return
    t.check(s.home == "/supporters", "a viewer lands on /supporters", s.home)
    wait_for_window(60, 15)
    answered, last = 0, None
    for i in range(5 * G_MISSES_PER_MINUTE):
        r = al.api_call(port, "POST", "/api/v1/supporters/search",
                        {"kind": "email", "value": f"leaked{i:03d}@list.example"}, session=s)
        last = r
        if r is None or r.status != 200:
            break
        t.check(json.loads(r.body).get("items") == [], f"miss {i}: nobody found")
        answered += 1
    t.check(answered == G_MISSES_PER_MINUTE, "failed searches answered up to the minute's budget",
            f"{answered} answered, budget {G_MISSES_PER_MINUTE}")
    t.note(f"failed-search oracle: {answered} misses answered, then {last.status if last else None}")
    if g.look("the search past the miss budget", last, (403,)):
        t.check(json.loads(last.body).get("error") == "locked", "the search past the miss budget: locked")
    r = al.api_call(port, "POST", "/api/v1/supporters/search", {"kind": "email", "value": "quill000.marrow@example.org"},
                    session=s)
    g.look("a search after the lock", r, (401,))
    info = inst.accounts().get("vsearch", {})
    t.check(info.get("state") == "locked" and "search_misses" in info.get("reason", ""),
            "admin list: the searching viewer is locked", str(info))
    a = alert_of(inst, "search_misses")
    t.check(a is not None and a.get("severity") == "critical" and a.get("actor") == s.actor,
            "a critical search_misses alert names the viewer", str(a))


def check_listing(g: Guarded) -> None:
    """Finding d: a viewer pages the masked list 200 rows at a time (and
    starts again at the end). It sees at most its row budget, then 403, is
    locked, and a list_budget alert goes out."""
    t, inst, port = g.t, g.inst, g.port
    s = g.sign_in("vlist", "127.0.0.42")
    if s is None:
        return
    wait_for_window(3600, 60)
    seen, cursor, last, pages = 0, "", None, 0
    for _ in range(20):
        r = al.api_call(port, "GET", "/api/v1/supporters?limit=200" + (f"&cursor={quote(cursor, safe='')}" if cursor else ""),
                        session=s)
        last = r
        if r is None or r.status != 200:
            break
        page = json.loads(r.body)
        seen += len(page["items"])
        cursor = page.get("next_cursor") or ""
        pages += 1
    t.check(G_VIEWER_ROWS_PER_HOUR - 200 < seen <= G_VIEWER_ROWS_PER_HOUR,
            "the viewer sees no more rows than its budget (and is served up to it)",
            f"{seen} rows in {pages} pages, budget {G_VIEWER_ROWS_PER_HOUR}")
    t.note(f"listing: {seen} rows in {pages} pages of 200 (viewer budget {G_VIEWER_ROWS_PER_HOUR} an hour), "
           f"then {last.status if last else None}")
    if g.look("the page past the row budget", last, (403,)):
        t.check(json.loads(last.body).get("error") == "locked", "the page past the row budget: locked")
    g.look("a page after the lock", al.api_call(port, "GET", "/api/v1/supporters?limit=1", session=s), (401,))
    info = inst.accounts().get("vlist", {})
    t.check(info.get("state") == "locked" and "list_budget" in info.get("reason", ""),
            "admin list: the listing viewer is locked", str(info))
    a = alert_of(inst, "list_budget")
    t.check(a is not None and a.get("severity") == "critical" and a.get("actor") == s.actor,
            "a critical list_budget alert names the viewer", str(a))


def run_guarded(tally: al.Tally) -> None:
    t0 = time.monotonic()
    try:
        g = Guarded(tally)
    except RuntimeError as e:
        tally.check(False, "the guard instance starts", str(e))
        return
    try:
        check_token_multiplication(g)
        check_search_misses(g)
        check_listing(g)
        check_alert_lines(tally, g.inst, "guard instance", g.pii)
        tally.check(g.inst.alive(), "guard instance still running", g.inst.log()[-2000:])
        v = g.inst.cli(["audit", "verify"])
        tally.check(v.returncode == 0, "guard instance: audit verify passes", v.stdout[-500:] + v.stderr[-500:])
        g.inst.stop_and_check(tally)
    finally:
        g.inst.cleanup()
    tally.note(f"guard instance took {time.monotonic() - t0:.0f} s")


# ---------------------------------------------------------------------------


def main() -> int:
    args = sys.argv[1:]
    skip_sqlmap = "--skip-sqlmap" in args
    wanted = {a for a in args if not a.startswith("--")}
    al.die_unless_binary()
    tally = al.Tally("console")
    oath = al.totp("JBSWY3DPEHPK3PXP", at=1_700_000_000)
    tally.check(al.totp_step("JBSWY3DPEHPK3PXP", 1_700_000_000 // al.TOTP_STEP) == oath,
                "the scripts' TOTP agrees with oathtool", oath)
    inst = al.Instance(intake={"rate_per_minute": 1000000, "burst": 1000000})
    try:
        inst.alert_file()
        inst.edit_section("guard", GUARD_OFF)
        inst.edit_section("guard.viewer", VIEWER_OFF)
        # Long enough for the whole stage on a slow machine.
        inst.edit_section("console", {"session_idle_minutes": 120})
        inst.import_supporters(seed_rows())
        inst.start()
        tally.check(inst.console_port != 0 and inst.console_port != inst.port,
                    "the console listens on its own port", f"{inst.console_port} / {inst.port}")
        c = Console(tally, inst)
        for name in ("orga", "adm", "aud", "adm2", "mallory"):
            a = alert_of(inst, "operator_account_created", account=name)
            tally.check(a is not None and a.get("severity") == "warning" and
                        str(a.get("actor", "")).startswith("operator:"),
                        f"the operator's admin add {name} raised a warning alert", str(a))
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
            check_enrol_public(c)
            tally.note(f"socket checks took {time.monotonic() - t0:.0f} s")
            t0 = time.monotonic()
            check_sock_puppet(c)
            tally.note(f"sock-puppet check took {time.monotonic() - t0:.0f} s")

        tally.check(inst.alive(), "server still running", inst.log()[-2000:])
        v = inst.cli(["audit", "verify"])
        tally.check(v.returncode == 0, "audit verify passes after the scan", v.stdout[-500:] + v.stderr[-500:])
        inst.stop_and_check(tally)
        check_alert_lines(tally, inst, "console instance", pii_of(seed_rows()))
    finally:
        inst.cleanup()
    if not wanted:
        run_guarded(tally)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
