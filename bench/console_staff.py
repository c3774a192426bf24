#!/usr/bin/env python3
"""Console staff for bench/ab_console.sh: organiser accounts added with
`rempart admin add`, then signed in over HTTP as a person does (POST /login,
then POST /login/code with the TOTP code), one session each.

  console_staff.py add BINARY CONFIG COUNT ACCOUNTS
      COUNT accounts bench-staff-N (organiser) in the instance of CONFIG;
      writes "NAME PASSWORD SECRET" lines to ACCOUNTS (the secret is the
      base32 TOTP secret of the otpauth:// URI `admin add` prints).
  console_staff.py signin PORT ACCOUNTS SESSIONS [SEGMENT...]
      signs every account of ACCOUNTS in to the console on 127.0.0.1:PORT and
      writes "COOKIE CSRF" lines to SESSIONS (the rempart_session value and
      the csrf_token of GET /api/v1/me), for bench/console.lua; then, as the
      first account, saves each SEGMENT ("name:form fields", e.g.
      "paris:place=75&email=given") so that /segments has counts to show.
      Checks one list page and one name search before it returns.
"""
import http.client
import json
import re
import secrets
import subprocess
import sys
import time
import urllib.parse


def totp(secret: str, at: float) -> str:
    """The TOTP code of `secret` at `at`, computed by oathtool (liboath)."""
    r = subprocess.run(["oathtool", "--totp", "-b", secret, "--now",
                        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))],
                       capture_output=True, text=True, timeout=10, check=True)
    return r.stdout.strip()


def add(binary: str, config: str, count: int, out: str) -> None:
    lines = []
    for i in range(count):
        name = f"bench-staff-{i}"
        password = "staff-" + secrets.token_hex(12)
        r = subprocess.run([binary, "admin", "add", name, "--role", "organiser", "--password-stdin",
                            "--config", config], input=password + "\n", capture_output=True, text=True)
        m = re.search(r"secret=([A-Z2-7]+)", r.stdout)
        if r.returncode != 0 or not m:
            sys.exit(f"admin add {name} failed ({r.returncode}): {r.stderr.strip()}")
        lines.append(f"{name} {password} {m.group(1)}\n")
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(lines)


def call(port: int, method: str, target: str, fields: dict | None = None, cookie: str = ""):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": f"rempart_session={cookie}"} if cookie else {}
    body = None
    if fields is not None:
        body = urllib.parse.urlencode(fields)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, target, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Set-Cookie") or "", r.getheader("Location") or "", data


def sign_in(port: int, name: str, password: str, secret: str) -> tuple[str, str]:
    status, _, _, body = call(port, "POST", "/login", {"name": name, "password": password})
    m = re.search(rb'name="pending" value="([^"]+)"', body)
    if status != 200 or not m:
        sys.exit(f"sign-in of {name}: POST /login answered {status}")
    status, set_cookie, _, _ = call(port, "POST", "/login/code",
                                    {"pending": m.group(1).decode(), "code": totp(secret, time.time())})
    cookie = re.match(r"rempart_session=([^;]+)", set_cookie)
    if status != 303 or not cookie:
        sys.exit(f"sign-in of {name}: POST /login/code answered {status}")
    status, _, _, body = call(port, "GET", "/api/v1/me", cookie=cookie.group(1))
    if status != 200:
        sys.exit(f"sign-in of {name}: GET /api/v1/me answered {status}")
    return cookie.group(1), json.loads(body)["csrf_token"]


def signin(port: int, accounts: str, out: str, segments: list[str]) -> None:
    sessions = []
    with open(accounts, encoding="utf-8") as f:
        for line in f:
            name, password, secret = line.split()
            sessions.append(sign_in(port, name, password, secret))
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(f"{cookie} {csrf}\n" for cookie, csrf in sessions)
    cookie, csrf = sessions[0]
    for seg in segments:
        name, _, definition = seg.partition(":")
        fields = dict(urllib.parse.parse_qsl(definition))
        fields.update({"op": "save", "name": name, "csrf": csrf})
        status, _, _, _ = call(port, "POST", "/segments", fields, cookie)
        if status not in (303, 409):
            sys.exit(f"saving segment {name} ({definition}): POST /segments answered {status}")
    # The organiser who saved them looks at the list once: its counts are
    # made (services::CountCache) before the staff arrive, as on any day but
    # the first minute after a start.
    status, _, _, _ = call(port, "GET", "/segments", None, cookie)
    if status != 200:
        sys.exit(f"GET /segments answered {status}")
    for method, target, fields in (("GET", "/supporters", None),
                                   ("POST", "/search", {"kind": "find", "name": "Martin", "place": "", "csrf": csrf})):
        status, _, _, body = call(port, method, target, fields, cookie)
        if status != 200 or b"/supporters/" not in body:
            sys.exit(f"{method} {target} answered {status} without a record link")


def main() -> None:
    if len(sys.argv) >= 6 and sys.argv[1] == "add":
        add(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) >= 5 and sys.argv[1] == "signin":
        signin(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
