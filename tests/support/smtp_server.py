#!/usr/bin/python3
"""A real SMTP server for rempart's tests (aiosmtpd, Debian's python3-aiosmtpd).

Listens on 127.0.0.1, on --port or a free port when 0, and prints the port as
its first line on stdout. Every accepted message is saved in --dir as one
file, written atomically (a dot-file renamed into place, so a reader never
sees half a message):

    X-Envelope-From: <MAIL FROM>
    X-Envelope-To: <RCPT TO>        (one line per accepted recipient)
    <the message exactly as received>

A recipient whose local part starts with "tempfail" gets 451 at RCPT, one
starting with "permfail" gets 550. Nothing else is refused, no TLS, no AUTH.

Stops on SIGTERM or SIGINT, and with --exit-with-stdin when its standard
input reaches end of file (the test binary that spawned it has gone, even by
a crash).

Run with /usr/bin/python3: a python3 earlier on PATH (pyenv) may lack aiosmtpd.
"""

import argparse
import asyncio
import itertools
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Saver:
    """aiosmtpd handler: scripted refusals at RCPT, each message to a file."""

    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Temporary failure, try again later (test)"
        if local.startswith("permfail"):
            return "550 5.1.1 Mailbox unavailable (test)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        # The connection the message came on: a sender that keeps its
        # connection open sends several messages under one id.
        head = "X-Smtp-Connection: {}\r\n".format(id(session))
        head += "X-Envelope-From: {}\r\n".format(envelope.mail_from)
        head += "".join("X-Envelope-To: {}\r\n".format(r) for r in envelope.rcpt_tos)
        n = next(self.counter)
        name = "{}-{}-{}.eml".format(os.getpid(), n, os.urandom(4).hex())
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(head.encode("ascii", "replace"))
            f.write(content)
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 for a free one")
    parser.add_argument("--dir", required=True, help="directory for the received messages")
    parser.add_argument("--exit-with-stdin", action="store_true", help="stop when stdin reaches end of file")
    args = parser.parse_args()
    os.makedirs(args.dir, mode=0o700, exist_ok=True)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Saver(args.dir)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, hostname="rempart.test", enable_SMTPUTF8=True, decode_data=False),
            host="127.0.0.1",
            port=args.port,
        )
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("{}\n".format(port))
    sys.stdout.flush()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    if args.exit_with_stdin:
        def on_stdin():
            if not os.read(sys.stdin.fileno(), 4096):
                loop.stop()

        loop.add_reader(sys.stdin.fileno(), on_stdin)

    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
