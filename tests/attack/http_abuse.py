#!/usr/bin/env python3
"""HTTP abuse against a fresh `rempart serve`: slow clients, oversized and
malformed requests, smuggling, traversal, old and pipelined HTTP, and a
burst of sign-ups from one address. Every answer must be a 4xx (or the
normal answer), or a closed connection: never a 5xx, a hang or a crash, and
never a stack trace, SQL, a path, a library version or key material.

The client side binds other loopback addresses (127.0.0.2, ...) as its
source to look like other clients; the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import attacklib as al  # noqa: E402

RATE_PER_MINUTE = 60
BURST = 5
BURST_REQUESTS = 10000


class Abuse:
    def __init__(self, tally: al.Tally, inst: al.Instance):
        self.t = tally
        self.inst = inst
        self.port = inst.port
        self.secrets = inst.secrets()
        self.n = 0
        self.responses = 0
        self.fivexx = 0

    # -- helpers -------------------------------------------------------------

    def look(self, what: str, resp: al.Response) -> None:
        """Checks every answer: no 5xx, nothing leaked."""
        self.responses += 1
        if resp.status >= 500:
            self.fivexx += 1
        self.t.check(resp.status < 500, f"{what}: no 5xx", str(resp.status))
        bad = al.leaks(resp, self.secrets)
        self.t.check(not bad, f"{what}: nothing leaked", f"{bad}: {resp.raw[:300]!r}")

    def expect(self, what: str, raw: bytes, statuses: tuple, close: bool | None = None,
               allow_silent_close: bool = False, source: str | None = None, timeout: float = 10) -> list:
        t0 = time.monotonic()
        rs, closed = al.exchange(self.port, raw, 1, source=source, timeout=timeout)
        took = time.monotonic() - t0
        self.t.check(took < timeout - 0.5, f"{what}: answered without hanging", f"{took:.1f} s")
        if not rs:
            self.t.check(allow_silent_close and closed, f"{what}: got an answer", "connection closed silently"
                         if closed else "no answer")
            return rs
        for r in rs:
            self.look(what, r)
        self.t.check(rs[0].status in statuses, f"{what}: status", f"{rs[0].status} not in {statuses}")
        if close is True:
            self.t.check((rs[0].header("connection") or "").lower() == "close", f"{what}: Connection: close")
        return rs

    def signup_body(self) -> bytes:
        self.n += 1
        return al.form_body(al.base_person(500000 + self.n))

    def post_signup(self, source: str | None = None, body: bytes | None = None) -> al.Response | None:
        return al.request(self.port, "POST", "/signup", body or self.signup_body(), al.FORM_TYPE, source=source)

    def alive(self, what: str) -> None:
        r = al.request(self.port, "GET", "/", source="127.0.0.9")
        self.t.check(r is not None and r.status == 200, f"server answers after {what}")

    # -- the attacks ---------------------------------------------------------

    def slow_clients(self) -> None:
        """Slowloris: headers and bodies trickled a byte a second are cut by
        the read deadline, while another client signs up normally."""
        cut = {}

        def trickle(name: str, prefix: bytes, drip: bytes, source: str):
            s = al.connect(self.port, source, timeout=2)
            t0 = time.monotonic()
            try:
                s.sendall(prefix)
                for _ in range(40):  # at most ~40 s, far past the 10 s deadline
                    time.sleep(1)
                    s.sendall(drip)
                    s.settimeout(0.01)
                    try:
                        if s.recv(4096) == b"":
                            break
                    except (socket.timeout, TimeoutError):
                        pass
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                cut[name] = time.monotonic() - t0
                s.close()

        body = self.signup_body()
        threads = []
        for i in range(10):
            threads.append(threading.Thread(target=trickle, args=(
                f"header{i}", b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-a: b\r\n", f"127.0.1.{i + 1}")))
            threads.append(threading.Thread(target=trickle, args=(
                f"body{i}", b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " + al.FORM_TYPE.encode() +
                f"\r\nContent-Length: {len(body)}\r\n\r\n".encode(), b"a", f"127.0.2.{i + 1}")))
        for th in threads:
            th.start()
        time.sleep(2)
        # Meanwhile, a normal person signs up (from their own address).
        r = self.post_signup(source="127.0.0.3")
        self.t.check(r is not None and r.status == 303, "sign-up succeeds during a slowloris attack",
                     str(r and r.status))
        for th in threads:
            th.join(timeout=60)
        for name, took in sorted(cut.items()):
            # ServerOptions::read_timeout is 10 s for a whole request.
            self.t.check(took < 16, f"slow client {name} cut by the deadline", f"after {took:.1f} s")
        self.t.check(len(cut) == len(threads), "every slow client ended")
        self.alive("slow clients")

    def oversized(self) -> None:
        big = b"X-Big: " + b"a" * 9000 + b"\r\n"
        self.expect("header over 8 KiB", b"GET / HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n", (431,), close=True)
        many = b"".join(b"X-%d: v\r\n" % i for i in range(2000))
        self.expect("2000 headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n", (431,), close=True)
        some = b"".join(b"X-%d: v\r\n" % i for i in range(500))
        self.expect("500 small headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + some + b"\r\n", (200, 431))
        self.expect("target over 8 KiB", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (431, 414, 400),
                    close=True)
        body = b"a" * 20000
        self.expect("body over 16 KiB", b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " + al.FORM_TYPE.encode()
                    + b"\r\nContent-Length: 20000\r\n\r\n" + body, (413,), close=True)
        self.expect("declared 1 GiB body", b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " +
                    al.FORM_TYPE.encode() + b"\r\nContent-Length: 1073741824\r\n\r\n", (413,), close=True)
        chunks = b"".join(b"1000\r\n" + b"a" * 0x1000 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
        self.expect("chunked body over 16 KiB", b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " +
                    al.FORM_TYPE.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks, (413,), close=True)
        self.expect("JSON body over 16 KiB", b"POST " + al.OSDI_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 17000\r\n\r\n" + b"[" * 17000, (413,),
                    close=True)
        self.expect("deeply nested JSON", b"POST " + al.OSDI_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 16000\r\n\r\n" + b"[" * 8000 + b"]" * 8000,
                    (400,))
        self.alive("oversized requests")

    def malformed_chunked(self) -> None:
        head = (b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " + al.FORM_TYPE.encode() +
                b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        cases = {
            "non-hex chunk size": b"zz\r\nabc\r\n0\r\n\r\n",
            "overflowing chunk size": b"ffffffffffffffffffff\r\na\r\n0\r\n\r\n",
            "negative chunk size": b"-1\r\na\r\n0\r\n\r\n",
            "chunk longer than declared": b"2\r\nabcdef\r\n0\r\n\r\n",
            "missing CRLF after chunk": b"3\r\nabc0\r\n\r\n",
            "huge chunk extension": b"3;" + b"e" * 9000 + b"\r\nabc\r\n0\r\n\r\n",
            "bad trailer": b"3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n",
        }
        for name, body in cases.items():
            self.expect(f"malformed chunked: {name}", head + body, (400, 413, 431), allow_silent_close=True)
        # A truncated chunked body, and bare LF framing (which the parser
        # waits on for a CRLF): the read deadline, not the parser, ends them.
        # The two run side by side to spend the deadline once.
        results = {}

        def slow(name, raw):
            results[name] = self.expect(name, raw, (400,), allow_silent_close=True, timeout=15)

        ths = [threading.Thread(target=slow, args=("truncated chunk", head + b"10\r\nabc")),
               threading.Thread(target=slow, args=("bare LF chunk framing", head + b"3\nabc\n0\n\n"))]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        self.alive("malformed chunked bodies")

    def smuggling(self) -> None:
        ct = b"Content-Type: " + al.FORM_TYPE.encode() + b"\r\n"
        smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        cases = {
            "CL.TE": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"Content-Length: 4\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
            "TE.CL": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"Transfer-Encoding: chunked\r\n"
                     b"Content-Length: 40\r\n\r\n0\r\n\r\n" + smuggled,
            "TE chunked, identity": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct +
                                    b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled,
            "TE identity, chunked": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct +
                                    b"Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n",
            "TE twice": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"Transfer-Encoding: chunked\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
            "TE xchunked": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"Transfer-Encoding: xchunked\r\n\r\n"
                           b"0\r\n\r\n",
            "TE with space before colon": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct +
                                          b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
            "TE obs-fold": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"X: y\r\n Transfer-Encoding: chunked\r\n"
                           b"Content-Length: 5\r\n\r\n0\r\n\r\n",
            "two different Content-Length": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct +
                                            b"Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc" + smuggled,
            "Content-Length list": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"Content-Length: 3, 40\r\n\r\n"
                                   b"abc",
            "negative Content-Length": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"Content-Length: -1\r\n\r\n",
            "Content-Length with sign": b"POST /signup HTTP/1.1\r\nHost: x\r\n" + ct + b"Content-Length: +3\r\n\r\n"
                                        b"abc",
            "two Host headers": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "no Host in HTTP/1.1": b"GET / HTTP/1.1\r\n\r\n",
        }
        for name, raw in cases.items():
            t0 = time.monotonic()
            # Read on for a second answer only where a request was smuggled.
            rs, closed = al.exchange(self.port, raw, 2 if smuggled in raw else 1, timeout=5)
            if time.monotonic() - t0 > 3:
                self.t.note(f"smuggling {name}: {time.monotonic() - t0:.1f} s, {[r.status for r in rs]}, closed={closed}")
            for r in rs:
                self.look(f"smuggling {name}", r)
            self.t.check(bool(rs) or closed, f"smuggling {name}: refused or closed")
            if rs:
                self.t.check(rs[0].status == 400, f"smuggling {name}: 400", str(rs[0].status))
            self.t.check(len(rs) <= 1, f"smuggling {name}: no second (smuggled) answer",
                         " ".join(str(r.status) for r in rs))
        self.alive("smuggling attempts")

    def methods_and_targets(self) -> None:
        for m in (b"FOO", b"get", b"G\x00T", b"TRACE", b"CONNECT", b"PROPFIND", b"DELETE", b"PUT", b"PATCH"):
            raw = m + b" / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
            self.expect(f"method {m!r}", raw, (400, 404, 405, 501), allow_silent_close=True)
        self.expect("OPTIONS from an unlisted origin", b"OPTIONS " + al.OSDI_PATH.encode() +
                    b" HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n", (403,))
        # Another site's page posting the sign-up form (its visitors' browsers
        # would sign up addresses of its choosing): refused, whatever the
        # browser says of itself.
        body = self.signup_body()
        for label, headers in (("cross-site", b"Origin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\n"),
                               ("old browser", b"Origin: https://evil.example\r\n"),
                               ("sandboxed", b"Origin: null\r\n"),
                               ("same-site", b"Origin: https://x.evil.example\r\nSec-Fetch-Site: same-site\r\n"),
                               ("two origins", b"Origin: http://x\r\nOrigin: https://evil.example\r\n")):
            self.expect(f"form post from another site ({label})",
                        b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " + al.FORM_TYPE.encode() +
                        f"\r\nContent-Length: {len(body)}\r\n".encode() + headers + b"\r\n" + body, (403,))
        # Mailed links' pages: whatever the token, the answer never repeats
        # it and no header comes from it; a GET and a POST answer alike
        # (the keeper alone can tell a valid token).
        sources = iter(f"127.0.1.{i}" for i in range(1, 100))  # each POST its own client: no rate limit
        for path in (b"/confirm", b"/unsubscribe"):
            for token in (b"%3Cscript%3Ealert(1)%3C/script%3E", b"<svg/onload=alert(1)>", b"%0d%0aX-Injected:%201",
                          b"A" * 43, b"A" * 6000, b"'%20OR%201=1--", b"x&t=" + b"B" * 43):
                for method in (b"GET", b"POST"):
                    raw = (method + b" " + path + b"?t=" + token + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " +
                           al.FORM_TYPE.encode() + b"\r\nContent-Length: 0\r\n\r\n")
                    what = f"{method.decode()} {path.decode()} with the token {token[:24]!r}"
                    rs = self.expect(what, raw, (200, 400, 414, 431), allow_silent_close=True, source=next(sources))
                    for r in rs:
                        self.t.check(r.header("x-injected") is None, f"{what}: no injected header")
                        self.t.check(b"alert(1)" not in r.body and b"A" * 43 not in r.body,
                                     f"{what}: the token is not in the page")
        for target in (b"*", b"http://evil.example/", b"127.0.0.1:80", b"//", b"/%00", b"/a%0d%0aX-Injected:%201",
                       b"/?" + b"%" * 100, b"/\xff\xfe", b"/a b", b"/.", b"/..", b"\\", b"/signup\x00"):
            raw = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            rs = self.expect(f"target {target[:30]!r}", raw, (400, 404, 200), allow_silent_close=True)
            for r in rs:
                self.t.check(r.header("x-injected") is None, f"target {target[:30]!r}: no injected header")
        for host in (b"evil.example\r\nX-Injected: 1", b"", b"a" * 300, b"[::1", b"x:99999"):
            rs = self.expect(f"Host {host[:20]!r}", b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", (200, 400),
                             allow_silent_close=True)
            for r in rs:
                self.t.check(r.header("x-injected") is None, "no injected header from Host")
        self.alive("invalid methods and targets")

    def traversal(self) -> None:
        for t in (b"/static/../../../../etc/passwd", b"/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                  b"/static/..%2f..%2f..%2fetc%2fpasswd", b"/static/%252e%252e/%252e%252e/etc/passwd",
                  b"/static/..%5c..%5c..%5cetc%5cpasswd", b"/static/rempart.css/../../../etc/passwd",
                  b"/static/rempart.css%00.txt", b"/static/..;/..;/etc/passwd", b"/static/%c0%ae%c0%ae/etc/passwd",
                  b"/static/....//....//etc/passwd", b"/static/./rempart.css", b"/static//rempart.css",
                  b"/STATIC/rempart.css", b"/static/rempart.css?../../etc/passwd",
                  b"/static/" + b"../" * 50 + b"proc/self/environ", b"/../../../etc/passwd"):
            rs = self.expect(f"traversal {t[:40]!r}", b"GET " + t + b" HTTP/1.1\r\nHost: x\r\n\r\n", (400, 404, 200))
            for r in rs:
                self.t.check(b"root:" not in r.body and b"PATH=" not in r.body, f"traversal {t[:40]!r}: no file")
                if r.status == 200:  # only the one stylesheet, as itself
                    self.t.check(t.startswith(b"/static/rempart.css?"), f"traversal {t[:40]!r}: 200 only for "
                                 "the stylesheet itself")
        self.alive("traversal")

    def old_and_pipelined(self) -> None:
        rs = self.expect("HTTP/1.0 without Host", b"GET / HTTP/1.0\r\n\r\n", (200,))
        if rs:
            self.t.check(rs[0].raw.startswith(b"HTTP/1.0 "), "HTTP/1.0 answered as HTTP/1.0")
        self.expect("HTTP/0.9", b"GET /\r\n\r\n", (400,), allow_silent_close=True)
        self.expect("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400,), allow_silent_close=True)
        self.expect("HTTP/1.2", b"GET / HTTP/1.2\r\nHost: x\r\n\r\n", (400, 505, 200), allow_silent_close=True)
        self.expect("HTTP/9.9", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", (400, 505), allow_silent_close=True)
        self.expect("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)), (400,),
                    allow_silent_close=True)
        # Pipelining: three requests in one write, three answers in order.
        raw = (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /static/rempart.css HTTP/1.1\r\nHost: x\r\n\r\n")
        rs, _ = al.exchange(self.port, raw, 3)
        for r in rs:
            self.look("pipelined", r)
        self.t.check([r.status for r in rs] == [200, 404, 200], "pipelined answers in order",
                     str([r.status for r in rs]))
        body = self.signup_body()
        post = (b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " + al.FORM_TYPE.encode() +
                b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        rs, _ = al.exchange(self.port, post + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2,
                            source="127.0.0.4")
        self.t.check([r.status for r in rs] == [303, 200], "pipelined sign-up then page", str([r.status for r in rs]))
        # A malformed request in a pipeline: its 400 closes the connection,
        # the request behind it is not answered.
        rs, closed = al.exchange(self.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n"
                                 b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 3, timeout=5)
        self.t.check([r.status for r in rs] == [200, 400] and closed, "pipeline stops at a malformed request",
                     str([r.status for r in rs]))
        self.alive("old and pipelined HTTP")

    def rate_limit(self) -> None:
        """A burst of sign-ups from one address gets 429 with Retry-After,
        while sign-ups from other addresses still succeed."""
        source = "127.0.0.5"
        body = self.signup_body()  # the same person again and again: a merge, not new records
        one = (b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " + al.FORM_TYPE.encode() +
               b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        statuses: dict[int, int] = {}
        retry_ok = True
        t0 = time.monotonic()
        sent = 0
        per_conn = 100
        while sent < BURST_REQUESTS:
            s = al.connect(self.port, source)
            try:
                s.sendall(one * per_conn)
                rs, _ = al.read_responses(s, per_conn, timeout=30)
            finally:
                s.close()
            sent += per_conn
            for r in rs:
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status == 429:
                    ra = r.header("retry-after") or ""
                    retry_ok = retry_ok and ra.isdigit() and int(ra) >= 1
                if r.status >= 500:
                    self.look("burst", r)
            if sent == per_conn * 10:
                # While the burst is on, another address signs up.
                r = self.post_signup(source="127.0.0.6")
                self.t.check(r is not None and r.status == 303, "other address signs up during the burst",
                             str(r and r.status))
        took = time.monotonic() - t0
        self.t.note(f"burst of {sent} sign-ups from one address in {took:.1f} s: {statuses}")
        allowed = statuses.get(303, 0)
        ceiling = BURST + RATE_PER_MINUTE * took / 60 + 1
        self.t.check(allowed <= ceiling, "burst is rate-limited", f"{allowed} accepted, ceiling {ceiling:.0f}")
        self.t.check(allowed >= 1, "the first sign-ups of the burst pass")
        self.t.check(statuses.get(429, 0) + allowed == sent, "every other burst request got 429", str(statuses))
        self.t.check(retry_ok, "every 429 carries Retry-After")
        burst_end = time.monotonic()
        for i in range(3):
            r = self.post_signup(source=f"127.0.0.{20 + i}")
            self.t.check(r is not None and r.status == 303, f"address 127.0.0.{20 + i} still signs up")
        # The bucket refills RATE_PER_MINUTE a minute: of a few quick tries
        # from the bursting address, only what was left of a token at the end
        # of the burst (under one) plus what refilled since may pass, and the
        # rest get 429. (A single try passes whenever a token refilled in the
        # meantime, which a slow machine makes likely.)
        tries = [self.post_signup(source=source) for _ in range(5)]
        gap = time.monotonic() - burst_end
        passed = sum(1 for r in tries if r is not None and r.status == 303)
        limited = sum(1 for r in tries if r is not None and r.status == 429)
        self.t.check(passed + limited == len(tries) and limited >= 1 and passed <= 1 + RATE_PER_MINUTE * gap / 60,
                     "the bursting address is still limited", f"{passed} of {len(tries)} passed {gap:.2f} s after the burst")


def main() -> int:
    al.die_unless_binary()
    tally = al.Tally("http_abuse")
    # Probe: can a client use another loopback address as its source?
    try:
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.close()
    except OSError as e:
        tally.check(False, "bind 127.0.0.2 as a client source address", str(e))
        return tally.finish()
    inst = al.Instance(intake={"rate_per_minute": RATE_PER_MINUTE, "burst": BURST})
    try:
        inst.start()
        a = Abuse(tally, inst)
        steps = [a.oversized, a.malformed_chunked, a.smuggling, a.methods_and_targets, a.traversal,
                 a.old_and_pipelined, a.slow_clients, a.rate_limit]
        if len(sys.argv) > 1:  # e.g. `http_abuse.py smuggling traversal`
            steps = [s for s in steps if s.__name__ in sys.argv[1:]]
        for step in steps:
            t0 = time.monotonic()
            before = tally.failed
            try:
                step()
            except Exception as e:  # a crash of the attack itself is a failure, not an abort
                tally.check(False, f"{step.__name__} ran", repr(e))
            tally.note(f"{step.__name__}: {time.monotonic() - t0:.1f} s, {tally.failed - before} failures")
            if not inst.alive():
                tally.check(False, f"server alive after {step.__name__}", inst.log()[-3000:])
                break
        tally.check(a.fivexx == 0, "no 5xx anywhere", str(a.fivexx))
        tally.note(f"{a.responses} answers inspected")
        inst.stop_and_check(tally)
    finally:
        inst.cleanup()
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
