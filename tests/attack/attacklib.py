"""Shared helpers of the attack suite (stdlib only).

Each attack script starts its own fresh `rempart serve` in a temporary
directory (Instance), talks to it over loopback only, counts its checks in a
Tally and ends with the plain closing line `N passed, N failed`.

Adding an intake endpoint to attack means adding an Endpoint to ENDPOINTS
below: the payload corpus, the leak scanner and the sqlmap stage all iterate
over that list. The admin console has its own stage (console_scan.py) built on
the helpers at the end: accounts and tokens through the CLI, the two-step
sign-in over HTTP, requests carrying a session.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = ROOT / "build" / "asan" / "src" / "cli" / "rempart"


DEFAULT_CLI_BINARY = ROOT / "build" / "release" / "src" / "cli" / "rempart"


def binary() -> Path:
    """The binary that serves: the sanitizer build, so a memory error under
    attack is a failure and not a silent corruption."""
    return Path(os.environ.get("REMPART_BIN", str(DEFAULT_BINARY)))


def cli_binary() -> Path:
    """The binary for operator commands (init, count, show). The Release
    build answers a `supporters show` in ~70 ms against ~1 s for the
    sanitizer build, which decides how many records a run can verify."""
    p = os.environ.get("REMPART_CLI_BIN")
    if p:
        return Path(p)
    return DEFAULT_CLI_BINARY if DEFAULT_CLI_BINARY.exists() else binary()


# ---------------------------------------------------------------------------
# Counting checks


class Tally:
    """Counts checks; prints failures at once and the closing line at the end."""

    def __init__(self, name: str):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.started = time.monotonic()

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL [{self.name}] {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def note(self, text: str) -> None:
        print(f"[{self.name}] {text}", flush=True)

    def finish(self) -> int:
        took = time.monotonic() - self.started
        print(f"[{self.name}] took {took:.1f} s", flush=True)
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------
# A fresh instance of the real binary


@dataclass
class Instance:
    """`rempart init` in a temp dir, config edits, `rempart serve` on port 0."""

    intake: dict = field(default_factory=dict)  # [intake] keys to override
    role: str = "all"
    dir: Path = field(init=False)
    config: Path = field(init=False)
    proc: subprocess.Popen | None = field(init=False, default=None)
    port: int = field(init=False, default=0)  # intake (0 when the role serves none)
    console_port: int = field(init=False, default=0)  # console (0 when the role serves none)
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        # tmpfs when there is one: every accepted sign-up waits for a durable
        # commit, and fsync on a real disk would make the scans disk-bound.
        shm = Path("/dev/shm")
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.dir = Path(tempfile.mkdtemp(prefix="rempart-attack-", dir=base))
        self.config = self.dir / "rempart.toml"
        self.log_path = self.dir / "serve.log"
        r = self.cli(["init", "--data", str(self.dir / "data"), "--keys", str(self.dir / "keys"),
                      "--config", str(self.config), "--listen", "127.0.0.1:0",
                      "--console-listen", "127.0.0.1:0"], with_config=False)
        if r.returncode != 0:
            raise RuntimeError(f"rempart init failed: {r.stderr}")
        if self.intake:
            self.edit_section("intake", self.intake)

    def edit_section(self, section: str, values: dict) -> None:
        """Replaces or adds `key = value` lines in [section] of the TOML file."""
        lines = self.config.read_text().splitlines()
        out, current, done = [], None, set()

        def flush_missing():
            for k, v in values.items():
                if k not in done:
                    out.append(f"{k} = {toml_value(v)}")
                    done.add(k)

        for line in lines:
            m = re.match(r"^\s*\[([^\]]+)\]\s*(?:#.*)?$", line)  # a header may carry a comment
            if m:
                if current == section:
                    flush_missing()
                current = m.group(1)
                out.append(line)
                continue
            km = re.match(r"^\s*([A-Za-z_]+)\s*=", line)
            if current == section and km and km.group(1) in values:
                out.append(f"{km.group(1)} = {toml_value(values[km.group(1)])}")
                done.add(km.group(1))
                continue
            out.append(line)
        if current == section:
            flush_missing()
        elif len(done) < len(values):
            out.append(f"[{section}]")
            flush_missing()
        self.config.write_text("\n".join(out) + "\n")

    def cli(self, args: list[str], with_config: bool = True, timeout: float = 120,
            stdin: str | None = None) -> subprocess.CompletedProcess:
        cmd = [str(cli_binary())] + args
        if with_config:
            cmd += ["--config", str(self.config)]
        return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL,
                              encoding="utf-8", errors="replace")

    # -- console accounts, tokens and seed records (through the operator CLI) --

    def add_account(self, name: str, role: str, password: str | None = None) -> "Account":
        """`admin add NAME --role ROLE --password-stdin`; the account with its
        TOTP secret and recovery codes as printed (once) by the CLI."""
        password = password or "Zq-" + os.urandom(9).hex() + "-battery-staple"
        r = self.cli(["admin", "add", name, "--role", role, "--password-stdin"], stdin=password + "\n")
        if r.returncode != 0:
            raise RuntimeError(f"admin add {name} failed: {r.stderr}")
        m = re.search(r"otpauth://\S*[?&]secret=([A-Z2-7]+)", r.stdout)
        if not m:
            raise RuntimeError(f"admin add {name}: no otpauth URI in the output")
        recovery = re.findall(r"^\s+([a-z0-9]{4}(?:-[a-z0-9]{4}){3})\s*$", r.stdout, re.M)
        return Account(name, role, password, m.group(1), recovery)

    def create_token(self, scope: str, label: str = "attack", days: int = 30) -> str:
        """`admin token create`; the bearer token (rmp_...) printed once."""
        r = self.cli(["admin", "token", "create", "--scope", scope, "--name", label, "--expires-days", str(days)])
        m = re.search(r"\b(rmp_\S+)", r.stdout)
        if r.returncode != 0 or not m:
            raise RuntimeError(f"admin token create failed: {r.stderr}")
        return m.group(1)

    def import_supporters(self, rows: list[dict]) -> None:
        """Writes rows (given_name, family_name, email, phone, postal_code,
        tags) to a CSV file and imports it with `supporters import`."""
        import csv
        path = self.dir / f"import-{time.monotonic_ns()}.csv"
        cols = ["given_name", "family_name", "email", "phone", "postal_code", "tags"]
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for row in rows:
                w.writerow([row.get(c, "") for c in cols])
        r = self.cli(["supporters", "import", str(path), "--no-progress"])
        if r.returncode != 0:
            raise RuntimeError(f"supporters import failed: {r.stderr[-500:]}")

    def console_enabled(self) -> bool:
        import tomllib
        try:
            conf = tomllib.loads(self.config.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            return True
        return bool(conf.get("console", {}).get("enabled", True))

    def start(self, timeout: float = 60) -> int:
        """Starts `serve` and waits for every listener its role opens; the
        intake port (console_port is set too when the console is served)."""
        want_intake = self.role in ("all", "intake")
        want_console = self.role in ("all", "keeper") and self.console_enabled()
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(binary()), "serve", "--config", str(self.config), "--role", self.role],
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            m = re.search(r"intake listening on 127\.0\.0\.1:(\d+)", text)
            if m:
                self.port = int(m.group(1))
            m = re.search(r"console listening on 127\.0\.0\.1:(\d+)", text)
            if m:
                self.console_port = int(m.group(1))
            if (self.port or not want_intake) and (self.console_port or not want_console):
                return self.port
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("rempart serve did not start:\n" + self.log())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait; the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def count(self) -> tuple[int, str]:
        """(supporters, stderr); stderr mentions submissions still in the inbox."""
        r = self.cli(["supporters", "count"])
        if r.returncode != 0:
            raise RuntimeError("supporters count failed: " + r.stderr)
        return int(r.stdout.strip()), r.stderr

    def wait_folded(self, timeout: float = 60) -> int:
        """Waits until the keeper has folded the whole inbox; the count."""
        deadline = time.monotonic() + timeout
        n, err = self.count()
        while "inbox" in err and time.monotonic() < deadline:
            time.sleep(0.3)
            n, err = self.count()
        return n

    def show(self, kind: str, value: str) -> dict | None:
        r = self.cli(["supporters", "show", f"--{kind}", value, "--json"])
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def stop_and_check(self, tally: "Tally") -> None:
        """Stops the server and records that it stopped cleanly and that the
        sanitizers reported nothing."""
        code = self.stop()
        tally.check(code == 0, "server stops cleanly", f"exit {code}")
        log = self.log()
        tally.check("AddressSanitizer" not in log and "runtime error:" not in log, "no sanitizer report",
                    log[-3000:])

    def cleanup(self) -> None:
        self.stop()
        if os.environ.get("REMPART_ATTACK_KEEP"):
            print(f"kept {self.dir}", flush=True)
            return
        shutil.rmtree(self.dir, ignore_errors=True)

    def secrets(self) -> list[bytes]:
        """Byte strings from the key files that must never reach a response."""
        out: list[bytes] = []
        for p in (self.dir / "keys").glob("*"):
            if p.is_file():
                data = p.read_bytes()
                # Any 12-byte window of a key file, as text or raw, would be a
                # leak; sample windows across the file to keep the scan cheap.
                for tok in re.findall(rb"[A-Za-z0-9+/=_-]{16,}", data):
                    out.append(tok[:16])
                for i in range(0, max(0, len(data) - 12), 8):
                    out.append(data[i:i + 12])
        return out


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


# ---------------------------------------------------------------------------
# Raw HTTP over loopback


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def connect(port: int, source: str | None = None, timeout: float = 10) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_responses(sock: socket.socket, expect: int = 1, timeout: float = 10) -> tuple[list[Response], bool]:
    """Reads up to `expect` responses; also whether the peer closed."""
    sock.settimeout(timeout)
    buf = b""
    out: list[Response] = []
    closed = False
    deadline = time.monotonic() + timeout
    while len(out) < expect:
        r, used = parse_response(buf)
        if r is not None:
            out.append(r)
            buf = buf[used:]
            continue
        if time.monotonic() > deadline:
            break
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not chunk:
            closed = True
            r, used = parse_response(buf)
            if r is not None:
                out.append(r)
            break
        buf += chunk
    return out, closed


def parse_response(buf: bytes) -> tuple[Response | None, int]:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, 0
    head = buf[:end].decode("latin-1")
    lines = head.split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
    if not m:
        raise ValueError(f"not an HTTP response: {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    length = 0
    for k, v in headers:
        if k.lower() == "content-length":
            length = int(v)
        if k.lower() == "transfer-encoding":
            raise ValueError("the server never sends chunked answers")
    start = end + 4
    if len(buf) < start + length:
        return None, 0
    body = buf[start:start + length]
    return Response(int(m.group(1)), m.group(2), headers, body, buf[:start + length]), start + length


def exchange(port: int, raw: bytes, expect: int = 1, source: str | None = None,
             timeout: float = 10) -> tuple[list[Response], bool]:
    """Sends raw bytes on a fresh connection; the answers and whether it closed."""
    s = connect(port, source, timeout)
    try:
        try:
            s.sendall(raw)
        except (ConnectionResetError, BrokenPipeError):
            pass
        return read_responses(s, expect, timeout)
    finally:
        s.close()


def request(port: int, method: str, target: str, body: bytes = b"", content_type: str | None = None,
            headers: dict | None = None, source: str | None = None, timeout: float = 10) -> Response | None:
    h = {"Host": "127.0.0.1", "Connection": "close"}
    if content_type:
        h["Content-Type"] = content_type
    if body or method in ("POST", "PUT"):
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    raw = f"{method} {target} HTTP/1.1\r\n".encode() + b"".join(
        f"{k}: {v}\r\n".encode("latin-1") for k, v in h.items()) + b"\r\n" + body
    rs, _ = exchange(port, raw, 1, source, timeout)
    return rs[0] if rs else None


# ---------------------------------------------------------------------------
# What no response may ever carry

LEAK_PATTERNS = [
    (re.compile(rb"(?i)\bselect\b.{0,80}\bfrom\b"), "SQL text"),
    (re.compile(rb"(?i)\binsert\s+into\b"), "SQL text"),
    (re.compile(rb"(?i)\b(sqlite|sqlite3|postgres|syntax error|no such (table|column))"), "database name or error"),
    (re.compile(rb"(?i)(/work/|/home/|/root/|/usr/|/tmp/|/etc/|/var/|\.cpp\b|\.hpp\b|\.toml\b|\.keyring\b)"), "file path"),
    (re.compile(rb"(?i)(boost|beast|asio|libsodium|sodium|spdlog|nlohmann|libphonenumber|icu4c|libidn|rempart/?\d)"), "library name"),
    (re.compile(rb"(?i)\b(version\s*[0-9]|v\d+\.\d+\.\d+|\d+\.\d+\.\d+)"), "version string"),
    (re.compile(rb"(?i)(stack trace|traceback|backtrace|terminate called|what\(\)|std::|exception|addresssanitizer|runtime error|segmentation)"), "stack trace or exception"),
]


def leaks(resp: Response, secrets: list[bytes] = ()) -> list[str]:
    """Reasons this response leaks something; empty when it is clean."""
    found = []
    for pat, what in LEAK_PATTERNS:
        if pat.search(resp.raw):
            found.append(what)
    for name in ("server", "x-powered-by", "via", "x-aspnet-version"):
        if resp.header(name) is not None:
            found.append(f"{name} header")
    for s in secrets:
        if s and s in resp.raw:
            found.append("key material")
            break
    return found


# ---------------------------------------------------------------------------
# The endpoints under attack, and how to fill each field with a payload

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
OSDI_PATH = "/api/v1/people/person_signup_helper"


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    content_type: str | None
    fields: list[str]  # names a payload can go into
    # build(values) -> body bytes, where values maps field -> bytes
    build: Callable[[dict], bytes]
    base: Callable[[int], dict]  # a valid submission, unique per n
    accepted: tuple[int, ...] = ()  # statuses that mean "stored"
    sqlmap_data: Callable[[], str] | None = None  # body for sqlmap (None: GET)
    stores: dict = field(default_factory=dict)  # field -> stored person key


def base_person(n: int) -> dict:
    # Numbers of the French 02 61 91 range: the corpus holds 01 99 00 ones,
    # which must not collide with these (a collision is a legitimate merge).
    return {
        "given_name": b"Atta",
        "family_name": b"Quant",
        "email": f"attack{n}@example.org".encode(),
        "phone": f"+3326191{n % 10000:04d}".encode(),
        "postal_code": b"75011",
        "locality": b"Paris",
        "country": b"FR",
        "tag": b"attack",
        "consent_email": b"on",
        "consent_sms": b"",
    }


def form_body(values: dict) -> bytes:
    from urllib.parse import quote_plus
    parts = []
    for k, v in values.items():
        if v is None:
            continue
        name = k if isinstance(k, bytes) else k.encode()
        parts.append(quote_plus(name).encode() + b"=" + quote_plus(v).encode())
    return b"&".join(parts)


def jstr(v: bytes) -> bytes:
    """A JSON string for v; invalid UTF-8 goes in raw (the parser must refuse it)."""
    try:
        return json.dumps(v.decode("utf-8")).encode()
    except UnicodeDecodeError:
        return b'"' + v.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def osdi_body(values: dict) -> bytes:
    """values: field -> bytes (a JSON string) or ("raw", bytes) for a raw JSON token."""

    def val(k):
        v = values.get(k)
        if isinstance(v, tuple):
            return v[1]
        return jstr(v) if v is not None else None

    person = []
    for k in ("given_name", "family_name", "additional_name", "honorific_prefix", "gender"):
        if values.get(k) is not None:
            person.append(b'"' + k.encode() + b'":' + val(k))
    if values.get("email") is not None:
        person.append(b'"email_addresses":[{"address":' + val("email") + b',"primary":true,"status":"subscribed"}]')
    if values.get("phone") is not None:
        person.append(b'"phone_numbers":[{"number":' + val("phone") + b',"number_type":"Mobile","sms_capable":true}]')
    addr = []
    for k in ("postal_code", "locality", "country"):
        if values.get(k) is not None:
            addr.append(b'"' + k.encode() + b'":' + val(k))
    if addr:
        person.append(b'"postal_addresses":[{' + b",".join(addr) + b"}]")
    for k, v in values.items():
        if isinstance(k, bytes):  # a payload used as a member name
            person.append(jstr(k) + b":" + (jstr(v) if not isinstance(v, tuple) else v[1]))
    parts = [b'"person":{' + b",".join(person) + b"}"]
    if values.get("tag") is not None:
        parts.append(b'"add_tags":[' + val("tag") + b"]")
    consent = []
    for k, name in (("consent_email", b"email"), ("consent_sms", b"sms")):
        v = values.get(k)
        if isinstance(v, tuple):
            consent.append(b'"' + name + b'":' + v[1])
        elif v is not None:  # a payload: a string where a boolean belongs
            consent.append(b'"' + name + b'":' + jstr(v))
    if consent:
        parts.append(b'"consent":{' + b",".join(consent) + b"}")
    return b"{" + b",".join(parts) + b"}"


def osdi_base(n: int) -> dict:
    v = base_person(n)
    v["additional_name"] = b"Mid"  # OSDI name rempart accepts and drops
    v["consent_email"] = ("raw", b"true")
    v["consent_sms"] = ("raw", b"false")
    return v


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        name="form",
        method="POST",
        path="/signup",
        content_type=FORM_TYPE,
        fields=["given_name", "family_name", "email", "phone", "postal_code", "locality", "country", "tag",
                "consent_email", "consent_sms"],
        build=form_body,
        base=base_person,
        accepted=(303,),
        sqlmap_data=lambda: form_body(base_person(0)).decode(),
    ),
    Endpoint(
        name="osdi",
        method="POST",
        path=OSDI_PATH,
        content_type=JSON_TYPE,
        fields=["given_name", "family_name", "email", "phone", "postal_code", "locality", "country", "tag",
                "additional_name", "consent_email"],
        build=osdi_body,
        base=osdi_base,
        accepted=(202,),
        sqlmap_data=lambda: osdi_body(osdi_base(0)).decode(),
    ),
    Endpoint(
        name="page",
        method="GET",
        path="/",
        content_type=None,
        fields=[],
        build=lambda v: b"",
        base=lambda n: {},
        accepted=(200,),
    ),
]


# ---------------------------------------------------------------------------
# The admin console (docs/console.md): accounts, two-step sign-in, sessions


@dataclass
class Account:
    name: str
    role: str
    password: str
    secret: str  # base32 TOTP secret from the otpauth:// URI
    recovery: list[str]
    last_step: int = -1  # the server refuses a TOTP step it has already seen


@dataclass
class Session:
    account: Account
    cookie: str  # "rempart_session=VALUE", ready for a Cookie header
    csrf: str  # form field `csrf` / header X-CSRF-Token

    @property
    def value(self) -> str:
        return self.cookie.partition("=")[2]


def totp(secret: str, at: float | None = None) -> str:
    """The TOTP code of secret at time `at` (now), computed by oathtool."""
    cmd = ["oathtool", "--totp", "-b", secret]
    if at is not None:
        cmd += ["--now", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError("oathtool failed: " + r.stderr)
    return r.stdout.strip()


def console_request(port: int, method: str, target: str, body: bytes = b"", content_type: str | None = None,
                    session: Session | None = None, headers: dict | None = None, source: str | None = None,
                    timeout: float = 30) -> Response | None:
    """A request to the console, with the session cookie when given (and its
    X-CSRF-Token on API posts; forms carry `csrf` in their body)."""
    h = {}
    if session is not None:
        h["Cookie"] = session.cookie
        if method == "POST" and target.startswith("/api/"):
            h["X-CSRF-Token"] = session.csrf
    h.update(headers or {})
    return request(port, method, target, body, content_type, h, source, timeout)


PENDING_RE = re.compile(rb'name="pending" value="([^"]+)"')


def login_pending(port: int, name: str, password: str, source: str | None = None) -> str | None:
    """Step one of the sign-in: the hidden `pending` id of the code form."""
    r = request(port, "POST", "/login", form_body({"name": name.encode(), "password": password.encode()}),
                FORM_TYPE, source=source, timeout=30)
    if r is None or r.status != 200:
        return None
    m = PENDING_RE.search(r.body)
    return m.group(1).decode() if m else None


def sign_in(port: int, account: Account, source: str | None = None) -> Session:
    """Both sign-in steps over HTTP, then GET /api/v1/me for the CSRF token.
    Waits for a fresh TOTP step when this account already used the current one."""
    step = int(time.time()) // 30
    if step <= account.last_step:
        time.sleep((account.last_step + 1) * 30 - time.time() + 0.5)
        step = int(time.time()) // 30
    pending = login_pending(port, account.name, account.password, source)
    if pending is None:
        raise RuntimeError(f"sign-in of {account.name}: no code form")
    r = request(port, "POST", "/login/code", form_body({"pending": pending.encode(),
                                                         "code": totp(account.secret).encode()}),
                FORM_TYPE, source=source, timeout=30)
    account.last_step = step
    cookie = (r.header("set-cookie") or "").split(";")[0] if r is not None else ""
    if r is None or r.status != 303 or not cookie.startswith("rempart_session="):
        raise RuntimeError(f"sign-in of {account.name} failed: {r.status if r else 'no answer'}")
    session = Session(account, cookie, "")
    me = console_request(port, "GET", "/api/v1/me", session=session, source=source)
    if me is None or me.status != 200:
        raise RuntimeError(f"sign-in of {account.name}: /api/v1/me answered {me.status if me else 'nothing'}")
    session.csrf = json.loads(me.body)["csrf_token"]
    return session


def die_unless_binary() -> None:
    if not binary().exists():
        print(f"missing {binary()}: build it first (scripts/test does)", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
