#!/usr/bin/python3
"""A real IMAP server for rempart's tests: Debian's Dovecot (dovecot-imapd).

Writes a Dovecot configuration into --dir, starts Dovecot in the foreground
on 127.0.0.1 (on --port, or a free port when 0) and prints the port as its
first line on stdout. Every user name logs in with the password given by
--password and has a Maildir of its own under --dir, made on first login, so
tests that run at the same time keep apart by each using a user of its own.
IMAP only, plain text on the loopback (no TLS), nothing else listens.

Run as root, Dovecot's own users (dovecot, dovenull, made by the package)
serve the mail; run as anyone else, that user serves everything.

Stops Dovecot on SIGTERM or SIGINT, and with --exit-with-stdin when its
standard input reaches end of file (whoever started it has gone).
"""

import argparse
import os
import pwd
import grp
import select
import signal
import socket
import subprocess
import sys
import time

DOVECOT = "/usr/sbin/dovecot"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(directory, port, password, users):
    internal, login, mail_user, mail_group = users
    return f"""# Written by tests/support/imap_server.py for one test run.
protocols = imap
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {internal}
default_internal_group = {mail_group}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{directory}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={directory}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--password", default="test-password")
    p.add_argument("--exit-with-stdin", action="store_true")
    a = p.parse_args()

    directory = os.path.abspath(a.dir)
    if os.geteuid() == 0:
        users = ("dovecot", "dovenull", "dovecot", "dovecot")
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        users = (me, me, me, grp.getgrgid(os.getegid()).gr_name)
    for sub in ("run", "state", "mail", "home"):
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
    if os.geteuid() == 0:
        d = pwd.getpwnam("dovecot")
        for sub in ("mail", "home"):
            os.chown(os.path.join(directory, sub), d.pw_uid, d.pw_gid)
        # Dovecot's users must reach the directory: every ancestor this
        # process owns (a mkdtemp directory is 0700) lets others through.
        path = directory
        while path != "/":
            st = os.stat(path)
            if st.st_uid == os.geteuid() and not st.st_mode & 0o001:
                os.chmod(path, (st.st_mode & 0o7777) | 0o111)
            path = os.path.dirname(path)
    port = a.port or free_port()
    conf = os.path.join(directory, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(config(directory, port, a.password, users))

    proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            sys.stderr.write("imap_server.py: dovecot exited; see " + directory + "/dovecot.log\n")
            return 1
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            sys.stderr.write("imap_server.py: dovecot did not answer in 20 s\n")
            return 1
        time.sleep(0.05)

    print(port, flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and proc.poll() is None:
        if a.exit_with_stdin:
            try:
                r, _, _ = select.select([sys.stdin], [], [], 0.5)
            except InterruptedError:
                continue
            if r and not sys.stdin.buffer.read1(4096):
                break
        else:
            time.sleep(0.5)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
