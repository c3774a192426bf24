#!/usr/bin/env python3
"""Sends every payload of tests/attack/payloads/*.txt into every field of
every submitting endpoint (attacklib.ENDPOINTS) of a fresh `rempart serve`.

Each request must get a clean 4xx (fixed body, no leak, no echo of the
payload) or be accepted (303/202); every accepted submission must then be in
the store with the payload's field exactly as the validator's normalisation
makes it (NFC and trimmed names, upper-case postcode and country, lower-case
tags, ...), and nothing else may have been stored.

With --backend postgresql (the stage payloads-pg) the instance keeps its
records in a fresh database of the attack suite's PostgreSQL cluster, and
after the corpus also: no table changed but those a sign-up writes, the
schema and grants are untouched, the intake's role cannot read, and the
server logged no error (attacklib.Instance.pg_checks).

Usage: payloads.py [--only FILE_STEM] [--backend sqlite|postgresql]
  (REMPART_BIN overrides the binary; REMPART_ATTACK_PG* name the cluster)
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import attacklib as al  # noqa: E402

HERE = Path(__file__).resolve().parent


def decode_line(line: str) -> bytes:
    """One corpus line to payload bytes (see the header of sql.txt)."""
    m = re.match(r"^@repeat (\d+) (.*)$", line)
    if m:
        return decode_line(m.group(2)) * int(m.group(1))
    out = bytearray()
    i = 0
    while i < len(line):
        c = line[i]
        if c != "\\" or i + 1 >= len(line):
            out += c.encode("utf-8")
            i += 1
            continue
        n = line[i + 1]
        simple = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\"}
        if n in simple:
            out += simple[n]
            i += 2
        elif n == "x":
            out.append(int(line[i + 2:i + 4], 16))
            i += 4
        elif n == "u":
            out += chr(int(line[i + 2:i + 6], 16)).encode("utf-8", "surrogatepass")
            i += 6
        elif n == "U":
            out += chr(int(line[i + 2:i + 10], 16)).encode("utf-8")
            i += 10
        else:
            out += b"\\"
            i += 1
    return bytes(out)


def load_corpus(only: str | None) -> list[tuple[str, bytes]]:
    out = []
    for f in sorted(HERE.glob("payloads/*.txt")):
        if only and f.stem != only:
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("# ") or line == "#":
                continue
            out.append((f.stem, decode_line(line)))
    return out


# ---- What the store must hold for an accepted value ---------------------------

ASCII_WS = " \t\r\n\v\f"
STORED = {"given_name", "family_name", "locality", "postal_code", "country", "tag", "email", "phone"}


def expect_name(v: str) -> str | None:
    s = unicodedata.normalize("NFC", v.strip())
    return s.strip()


def expect_postal(v: str) -> str:
    s = v.strip(ASCII_WS)
    return re.sub(r"[ \t]+", " ", s).upper()


def expected_value(fieldname: str, payload: bytes):
    """(person key, expected stored value or a predicate), or None if the
    field is not stored at all."""
    if fieldname in ("consent_email", "consent_sms"):
        on = payload.strip(ASCII_WS.encode()).lower() in (b"on", b"1", b"true", b"yes")
        key = "email" if fieldname == "consent_email" else "sms"
        return "consent", lambda got: isinstance(got, dict) and got.get(key) is on
    if fieldname not in STORED:
        return None  # accepted and dropped (e.g. OSDI names rempart does not store)
    try:
        text = payload.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return fieldname, lambda got: False  # ill-formed UTF-8 must never be stored
    if fieldname in ("given_name", "family_name", "locality"):
        return fieldname, expect_name(text)
    if fieldname == "postal_code":
        return fieldname, expect_postal(text)
    if fieldname == "country":
        code = text.strip(ASCII_WS)
        if len(code) == 2:
            return fieldname, code.upper()
        # A country's name in French or English comes back as its code.
        return fieldname, lambda got: re.fullmatch(r"[A-Z]{2}", got) is not None
    if fieldname == "tag":
        # docs/intake-api.md: NFC, white space runs collapsed to one space
        # and trimmed, lower-cased.
        return "tags", [" ".join(unicodedata.normalize("NFC", text).split()).lower()]
    if fieldname == "email":
        s = text.strip(ASCII_WS)
        local, _, domain = s.rpartition("@")
        if domain.isascii():
            return "email", local.lower() + "@" + domain.lower()
        return "email", lambda got: got.startswith(local.lower() + "@") and "xn--" in got
    if fieldname == "phone":
        return "phone", lambda got: re.fullmatch(r"\+[1-9]\d{6,14}", got) is not None
    return None


def is_control(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat == "Cc" or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


# ---- The run ----------------------------------------------------------------------


class Case:
    def __init__(self, n, ep, fieldname, stem, payload, mode):
        self.n, self.ep, self.field, self.stem, self.payload, self.mode = n, ep, fieldname, stem, payload, mode
        self.values = ep.base(n)
        if mode == "name":  # the payload as a member / parameter name
            self.values[payload] = b"x"
        elif mode == "raw":
            self.values[fieldname] = ("raw", payload)
        else:
            self.values[fieldname] = payload
        self.status = 0

    def label(self) -> str:
        shown = self.payload[:40]
        return f"{self.ep.name}.{self.field}[{self.mode}] {self.stem}: {shown!r}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="one payload file (stem)")
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = ap.parse_args()
    al.die_unless_binary()
    tally = al.Tally("payloads-pg" if args.backend == "postgresql" else "payloads")
    corpus = load_corpus(args.only)
    inst = al.Instance(intake={"rate_per_minute": 1000000, "burst": 1000000}, backend=args.backend)
    try:
        port = inst.start()
        secrets = inst.secrets()
        before = inst.pg_snapshot() if inst.pg else None
        cases: list[Case] = []
        n = 0
        for ep in al.ENDPOINTS:
            if ep.method != "POST":
                continue
            for fieldname in ep.fields:
                for stem, payload in corpus:
                    n += 1
                    cases.append(Case(n, ep, fieldname, stem, payload, "value"))
                    if ep.content_type == al.JSON_TYPE and stem == "numbers":
                        n += 1
                        cases.append(Case(n, ep, fieldname, stem, payload, "raw"))
            for stem, payload in corpus:
                n += 1
                cases.append(Case(n, ep, "-", stem, payload, "name"))
        tally.note(f"{len(corpus)} payloads, {len(cases)} requests")

        t0 = time.monotonic()
        for c in cases:
            body = c.ep.build(c.values)
            r = al.request(port, c.ep.method, c.ep.path, body, c.ep.content_type)
            if not tally.check(r is not None, "answered", c.label()):
                continue
            c.status = r.status
            ok_status = r.status in c.ep.accepted or r.status in (400, 413, 415, 422)
            tally.check(ok_status, "clean 4xx or accepted", f"{c.label()} -> {r.status}")
            bad = al.leaks(r, secrets)
            tally.check(not bad, "response leaks nothing", f"{c.label()}: {bad}")
            if len(c.payload) >= 4 and c.payload not in (b"true", b"null", b"Paris"):
                tally.check(c.payload not in r.body, "response does not echo the payload", c.label())
            if r.status == 400 and c.ep.content_type == al.JSON_TYPE:
                tally.check(re.fullmatch(rb'\{"errors":\[(\{"code":"[a-z_]+","field":"[a-z_.\[\]0-9]+"\},?)+\]\}', r.body)
                            is not None, "fixed JSON error body", f"{c.label()}: {r.body[:200]!r}")
        tally.note(f"sent in {time.monotonic() - t0:.1f} s")
        tally.check(inst.alive(), "server still running after the corpus")

        accepted = [c for c in cases if c.status in c.ep.accepted]
        tally.note(f"{len(accepted)} accepted, {len(cases) - len(accepted)} refused")
        count = inst.wait_folded()
        # Every accepted case carries its own e-mail and phone, except where
        # the payload replaced one of them (those may merge with each other).
        tally.check(count <= len(accepted), "no record beyond the accepted submissions",
                    f"{count} records for {len(accepted)} accepted")
        own = [c for c in accepted if c.field not in ("email", "phone")]
        tally.check(count >= len(own), "every accepted submission stored",
                    f"{count} records, {len(own)} with their own e-mail and phone")

        def verify(c: Case):
            exp = expected_value(c.field, c.payload) if c.mode == "value" else None
            if c.field == "email":
                rec = inst.show("phone", c.values["phone"].decode())
                if rec is None:  # merged into the holder of that e-mail
                    rec = inst.show("email", c.payload.decode("utf-8", "replace").strip())
            else:
                rec = inst.show("email", c.values["email"].decode())
                if rec is None and c.field == "phone":  # merged into the holder of that number
                    rec = inst.show("phone", c.payload.decode("utf-8", "replace").strip())
            problems = []
            if rec is None:
                return ["record not found"]
            if exp is not None:
                key, want = exp
                got = rec.get(key)
                if callable(want):
                    if not want(got):
                        problems.append(f"{key} stored as {got!r}")
                elif got != want:
                    problems.append(f"{key} stored as {got!r}, expected {want!r}")
            for k in ("given_name", "family_name", "locality"):
                if any(is_control(ch) for ch in rec.get(k, "")):
                    problems.append(f"{k} holds a control or bidi character")
            base = c.ep.base(c.n)
            if c.field != "given_name" and rec.get("given_name") != base["given_name"].decode():
                problems.append("given_name changed")
            return problems

        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=3) as pool:
            for c, problems in zip(accepted, pool.map(verify, accepted)):
                tally.check(not problems, "accepted value round-trips", f"{c.label()}: {problems}")
        tally.note(f"verified {len(accepted)} records in {time.monotonic() - t0:.1f} s")

        tally.check(inst.alive(), "server still running")
        if before is not None:
            inst.pg_checks(tally, before, al.PG_SIGNUP_TABLES)
        inst.stop_and_check(tally)
        inst.check_log_clean(tally)
    finally:
        inst.cleanup()
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
