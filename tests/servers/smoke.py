#!/usr/bin/env python3
"""Smoke test for the throwaway servers: smoke.py ENVFILE [dovecot|cyrus ...]

Reads the KEY=VALUE file written by dovecot.sh / cyrus.sh / all.sh and, for
each server named (default: every server found in the file), checks with
Python's imaplib: the greeting capabilities, LOGIN, SELECT INBOX, APPEND,
STARTTLS and implicit TLS verified against IMC_CA_FILE, AUTHENTICATE PLAIN and
CRAM-MD5, COMPRESS=DEFLATE advertised, and a failed login that is quick.
Prints the capability lists it saw. Exit status 0 when every check passed.
"""
import imaplib
import os
import shlex
import ssl
import subprocess
import sys
import time

IMTEST = "/usr/lib/cyrus/bin/imtest"


def load_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


class Checker:
    def __init__(self, name, env):
        p = "IMC_%s_" % name.upper()
        self.name = name
        self.host = env[p + "HOST"]
        self.port = int(env[p + "PORT"])
        self.sport = int(env[p + "IMAPS_PORT"])
        self.user, self.pw = env[p + "USER"], env[p + "PASS"]
        self.ctx = ssl.create_default_context(cafile=env["IMC_CA_FILE"])
        self.gssapi = env.get(p + "GSSAPI") == "1"
        self.env = env
        self.failures = 0

    def check(self, what, fn):
        try:
            detail = fn()
            print("  ok   %-28s %s" % (what, detail or ""))
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            self.failures += 1
            print("  FAIL %-28s %s: %s" % (what, type(e).__name__, e))

    def caps(self, m):
        typ, data = m.capability()
        assert typ == "OK", data
        return data[0].decode()

    def plain(self):
        m = imaplib.IMAP4(self.host, self.port, timeout=10)
        print("  greeting     %s" % m.welcome.decode())
        print("  caps plain   %s" % self.caps(m))
        m.login(self.user, self.pw)
        print("  caps authed  %s" % self.caps(m))
        typ, data = m.select("INBOX")
        assert typ == "OK", data
        before = int(data[0])
        msg = b"From: smoke@localhost\r\nSubject: smoke test\r\n\r\nhello\r\n"
        typ, data = m.append("INBOX", None, None, msg)
        assert typ == "OK", data
        typ, data = m.select("INBOX")
        after = int(data[0])
        assert after == before + 1, (before, after)
        m.logout()
        return "LOGIN, SELECT (%d messages), APPEND -> %d" % (before, after)

    def starttls(self):
        m = imaplib.IMAP4(self.host, self.port, timeout=10)
        m.starttls(ssl_context=self.ctx)
        print("  caps tls     %s" % self.caps(m))
        m.login(self.user, self.pw)
        print("  caps tls+auth %s" % self.caps(m))
        typ, data = m.select("INBOX")
        assert typ == "OK", data
        version = m.sock.version()
        m.logout()
        return "STARTTLS verified (%s), LOGIN, SELECT" % version

    def imaps(self):
        m = imaplib.IMAP4_SSL(self.host, self.sport, ssl_context=self.ctx, timeout=10)
        print("  caps imaps   %s" % self.caps(m))
        m.login(self.user, self.pw)
        typ, data = m.select("INBOX")
        assert typ == "OK", data
        m.logout()
        return "implicit TLS on %d verified, LOGIN" % self.sport

    def external(self):
        ctx = ssl.create_default_context(cafile=self.env["IMC_CA_FILE"])
        ctx.load_cert_chain(self.env["IMC_CLIENT_CERT"], self.env["IMC_CLIENT_KEY"])
        m = imaplib.IMAP4_SSL(self.host, self.sport, ssl_context=ctx, timeout=10)
        typ, data = m.authenticate("EXTERNAL", lambda _: b"")
        assert typ == "OK", data
        typ, data = m.select("INBOX")
        assert typ == "OK", data
        m.logout()
        m = imaplib.IMAP4_SSL(self.host, self.sport, ssl_context=self.ctx, timeout=10)
        try:
            m.authenticate("EXTERNAL", lambda _: b"")
            raise AssertionError("EXTERNAL accepted without a client certificate")
        except imaplib.IMAP4.error:
            pass
        m.logout()
        return "with client cert: OK; without: refused"

    def second_user(self):
        p = "IMC_%s_" % self.name.upper()
        m = imaplib.IMAP4(self.host, self.port, timeout=10)
        m.login(self.env[p + "USER2"], self.env[p + "PASS2"])
        typ, data = m.select("INBOX")
        assert typ == "OK", data
        m.logout()
        return "LOGIN %s, SELECT" % self.env[p + "USER2"]

    def auth_plain(self):
        m = imaplib.IMAP4(self.host, self.port, timeout=10)
        typ, data = m.authenticate(
            "PLAIN", lambda _: b"\0" + self.user.encode() + b"\0" + self.pw.encode())
        assert typ == "OK", data
        m.logout()
        return "AUTHENTICATE PLAIN"

    def auth_cram(self):
        m = imaplib.IMAP4(self.host, self.port, timeout=10)
        typ, data = m.login_cram_md5(self.user, self.pw)
        assert typ == "OK", data
        m.logout()
        return "AUTHENTICATE CRAM-MD5"

    def compress(self):
        m = imaplib.IMAP4(self.host, self.port, timeout=10)
        m.login(self.user, self.pw)
        caps = self.caps(m)
        m.logout()
        assert "COMPRESS=DEFLATE" in caps, caps
        return "COMPRESS=DEFLATE advertised"

    def bad_login(self):
        # twice: Dovecot's auth penalty would make the second one slow
        took = []
        for _ in range(2):
            m = imaplib.IMAP4(self.host, self.port, timeout=20)
            t0 = time.monotonic()
            try:
                m.login(self.user, "wrong")
                raise AssertionError("wrong password accepted")
            except imaplib.IMAP4.error:
                pass
            took.append(time.monotonic() - t0)
            m.logout()
        assert max(took) < 1.5, took
        return "rejected in %s s" % ", ".join("%.2f" % t for t in took)

    def gss(self, maxssf):
        """AUTHENTICATE GSSAPI with Cyrus's imtest (alice's ticket is in the
        KDC's ccache); returns the SSF imtest reports."""
        env = dict(os.environ)
        for k in ("KRB5_CONFIG", "KRB5CCNAME"):
            env[k] = self.env[k]
        out = subprocess.run(
            [IMTEST, "-m", "GSSAPI", "-l", str(maxssf), "-p", str(self.port), "localhost"],
            input=b"x1 SELECT INBOX\r\nx2 LOGOUT\r\n", capture_output=True,
            env=env, timeout=15).stdout.decode("utf-8", "replace")
        assert "x1 OK" in out, out
        ssf = [l for l in out.splitlines() if l.startswith("Security strength factor")]
        return "SSF %s" % ssf[0].split(":")[1].strip()

    def run(self):
        print("%s on %s:%d (imaps %d)" % (self.name, self.host, self.port, self.sport))
        for what, fn in (("plain LOGIN/SELECT/APPEND", self.plain),
                         ("STARTTLS", self.starttls), ("imaps", self.imaps),
                         ("AUTH=PLAIN", self.auth_plain),
                         ("AUTH=EXTERNAL (client cert)", self.external),
                         ("second user", self.second_user), ("AUTH=CRAM-MD5", self.auth_cram),
                         ("COMPRESS", self.compress), ("failed login", self.bad_login)):
            self.check(what, fn)
        if self.gssapi:
            for maxssf in (0, 1, 256):
                self.check("GSSAPI (max SSF %d)" % maxssf, lambda: self.gss(maxssf))
        return self.failures


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    env = load_env(argv[1])
    names = argv[2:] or [n for n in ("dovecot", "cyrus") if "IMC_%s_PORT" % n.upper() in env]
    failures = sum(Checker(n, env).run() for n in names)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
