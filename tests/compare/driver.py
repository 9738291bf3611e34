#!/usr/bin/env python3
"""Scripted IMAP server and runner for the Cyrus-vs-ours comparison.

For each scenario and each client binary: listen on 127.0.0.1 (port 0),
start the client under `timeout`, play the scenario's server script on a
thread while recording every byte the client sends, then print both runs
side by side.  Every wait is bounded, so a hung client only costs time.

usage: driver.py CYRUS_BIN OURS_BIN [SCENARIO...]
"""
import select
import socket
import subprocess
import sys
import textwrap
import threading
import time

CLIENT_TIMEOUT = 5  # seconds; the Cyrus client may block by design
GREETING = b"* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] fake ready\r\n"


class Conn:
    """One accepted client: bounded reads, a record of all it sent."""

    def __init__(self, sock):
        self.sock = sock
        self.rx = bytearray()  # everything the client sent, in order
        self.pos = 0           # how much of rx the script has consumed
        self.eof = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            pass

    def _fill(self, deadline):
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            return False
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.rx += data
        return True

    def read_line(self, timeout=2.0):
        deadline = time.monotonic() + timeout
        while True:
            nl = self.rx.find(b"\n", self.pos)
            if nl >= 0:
                line = bytes(self.rx[self.pos:nl + 1])
                self.pos = nl + 1
                return line
            if not self._fill(deadline):
                return None

    def read_n(self, n, timeout=2.0):
        deadline = time.monotonic() + timeout
        while len(self.rx) - self.pos < n:
            if not self._fill(deadline):
                return None
        data = bytes(self.rx[self.pos:self.pos + n])
        self.pos += n
        return data

    def read_command(self, timeout=2.0, on_sync_literal=None):
        """A whole command, its literals included.  A synchronizing literal
        gets "+ go" unless on_sync_literal (given the text so far) answers
        otherwise: it returns the bytes to send and whether to go on."""
        text = b""
        while True:
            line = self.read_line(timeout)
            if line is None:
                return None if not text else text
            text += line
            body = line.rstrip(b"\r\n")
            if not body.endswith(b"}") or b"{" not in body:
                return text
            size = body[body.rfind(b"{") + 1:-1]
            sync = not size.endswith(b"+")
            size = size.rstrip(b"+")
            if not size.isdigit():
                return text
            if sync:
                answer, go_on = (b"+ go\r\n", True)
                if on_sync_literal:
                    answer, go_on = on_sync_literal(text)
                self.send(answer)
                if not go_on:
                    return text
            data = self.read_n(int(size), timeout)
            if data is None:
                return text
            text += data

    def half_close_and_drain(self, timeout=1.5):
        """Send FIN, then keep recording until the client closes."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass

    def wait_for_client_close(self, timeout):
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass


def tag_of(cmd):
    return cmd.split(b" ", 1)[0]


def finish(c, timeout=1.5):
    """Answer whatever comes until LOGOUT, then close."""
    while True:
        cmd = c.read_command(timeout)
        if cmd is None:
            break
        t = tag_of(cmd)
        if b"LOGOUT" in cmd.upper():
            c.send(b"* BYE fake closing\r\n" + t + b" OK bye\r\n")
            break
        c.send(t + b" OK done\r\n")
    c.half_close_and_drain()


def answer_one(c, make):
    """Read one command and send make(tag)."""
    cmd = c.read_command()
    if cmd is not None:
        c.send(make(tag_of(cmd)))
    return cmd


# ---- server scripts, one per scenario ---------------------------------

def s01(c):
    c.send(GREETING)
    answer_one(c, lambda t: b"* CAPABILITY IMAP4rev1 LITERAL+ IDLE\r\n" + t + b" OK done\r\n")
    finish(c)


def s02(c):
    c.send(GREETING)
    answer_one(c, lambda t: b"* 2 EXISTS\n" + t + b" OK done\r\n")
    finish(c)


def s03(c):
    c.send(GREETING)
    answer_one(c, lambda t: b"* 3 exists\r\n* 4 Recent\r\n" + t + b" ok done\r\n")
    finish(c)


def s04(c):
    c.send(GREETING)
    cmd = answer_one(c, lambda t: t + b" PREAUTH odd\r\n")
    if cmd is not None:
        time.sleep(0.3)
        c.send(tag_of(cmd) + b" OK done\r\n")
    finish(c)


def s05_with(plus):
    def script(c):
        c.send(GREETING)
        state = {}

        def on_literal(text):
            state["tag"] = tag_of(text)
            return plus, True

        cmd = c.read_command(on_sync_literal=on_literal)
        if cmd is None or cmd.rstrip().endswith(b"}"):
            # The literal never came: keep the connection open, so a client
            # that waits for a "+" it dropped shows up as hung, not as EOF.
            c.wait_for_client_close(CLIENT_TIMEOUT + 2)
            return
        c.send(tag_of(cmd) + b" OK appended\r\n")
        finish(c)
    return script


def s06(c):
    c.send(GREETING)
    answer_one(c, lambda t: b"+ idling\r\n* 5 EXISTS\r\n" + t + b" OK idle over\r\n")
    finish(c)


def s07(c):
    c.send(GREETING)
    lit = b"a\0b\0c\r\n"
    answer_one(c, lambda t: b"* 1 FETCH (BODY[] {%d}\r\n" % len(lit) + lit +
               b" UID 9)\r\n" + t + b" OK done\r\n")
    finish(c)


def s08(c):
    c.send(GREETING)
    lit = b"* 9 EXPUNGE\r\nhello\r\n"
    answer_one(c, lambda t: b"* 1 FETCH (BODY[] {%d}\r\n" % len(lit) + lit +
               b" UID 9)\r\n" + t + b" OK done\r\n")
    finish(c)


def s09(c):
    c.send(GREETING)
    finish(c)  # answers every command line OK, as a server would


def s10(c):
    c.send(GREETING)
    finish(c)


def s11(c):
    c.send(GREETING)
    cmd = c.read_command(on_sync_literal=lambda text: (
        tag_of(text) + b" NO [TOOBIG] not taking that\r\n", False))
    finish(c)


def s22(c):
    c.send(GREETING)
    seen = []

    def on_literal(text):
        seen.append(text)
        if len(seen) == 1:
            return b"+ go\r\n", True
        return tag_of(text) + b" NO second literal refused\r\n", False

    c.read_command(on_sync_literal=on_literal)
    finish(c)


def s12(c):
    c.send(GREETING)
    tags = []
    for _ in range(3):
        cmd = c.read_command(timeout=1.0)
        if cmd is None:
            break
        tags.append(tag_of(cmd))
    if tags:
        c.send(tags[0] + b" OK first only\r\n")
    time.sleep(0.2)
    c.half_close_and_drain()


def s13_with(size):
    def script(c):
        c.send(GREETING)
        answer_one(c, lambda t: b"* 1 FETCH (BODY[] {" + size + b"}\r\n* 2 EXISTS\r\n" +
                   t + b" OK done\r\n")
        finish(c)
    return script


def s14(c):
    c.send(GREETING)
    answer_one(c, lambda t: b"99 OK stray\r\n" + t + b" OK done\r\n")
    finish(c)


def s14b(c):
    c.send(GREETING)
    # 2^64 + 1: a 64-bit tag*10+digit without overflow check lands on 1
    answer_one(c, lambda t: b"18446744073709551617 OK wrapped\r\n" + t + b" OK done\r\n")
    finish(c)


def s19(c):
    c.send(GREETING)
    answer_one(c, lambda t: b"* 2 EXISTS\r\n* 3 RECENT\r\n" + t + b" OK done\r\n")
    finish(c)


def s20(c):
    c.send(GREETING)
    c.read_command()
    c.wait_for_client_close(3)


def silent(c):
    c.wait_for_client_close(CLIENT_TIMEOUT + 2)


SCENARIOS = [
    ("01-capability", s01, "greeting + CAPABILITY with a CAPABILITY callback"),
    ("02-bare-lf", s02, "'* 2 EXISTS' ended by a bare LF"),
    ("03-lowercase", s03, "'* 3 exists', '* 4 Recent', tagged 'ok'"),
    ("04-tagged-status", s04, "tagged PREAUTH, then the real tagged OK"),
    ("05-plus-nospace", s05_with(b"+\r\n"), "'+' with no space/text during a literal wait"),
    ("05b-plus-text-nospace", s05_with(b"+go\r\n"), "'+go' (no space) during a literal wait"),
    ("06-unsolicited-plus", s06, "'+ idling' with no literal pending, then EXISTS and OK"),
    ("07-literal-nul", s07, "FETCH literal {7} holding NUL bytes"),
    ("08-noliteral", s08, "NOLITERAL FETCH callback; literal holds '* 9 EXPUNGE'"),
    ("09-atom-crlf", s09, "%a with \"INBOX\\r\\n2 DELETE x\""),
    ("10-astrings", s10, "%s with quote, backslash, 8-bit, 1030 bytes, empty, space, NIL"),
    ("11-literal-then-no", s11, "sync literal answered by tagged NO, then NOOP"),
    ("12-eof-pending", s12, "3 NOOPs; server answers the first, then closes"),
    ("13-literal-99999999999", s13_with(b"99999999999"), "literal size {99999999999}"),
    ("13b-literal-4294967296", s13_with(b"4294967296"), "literal size {4294967296}"),
    ("14-tag-not-in-flight", s14, "'99 OK' for a tag never sent"),
    ("14b-tag-wraps-2^64+1", s14b, "tag 18446744073709551617 (2^64+1)"),
    ("15-unknown-service", None, "connect to service 'no-such-service-xyz'"),
    ("15b-unknown-host", None, "connect to host 'no-such-host.invalid'"),
    ("16-silent-idle", silent, "server sends nothing; processoneevent, nothing pending"),
    ("16b-silent-pending", silent, "server sends nothing; NOOP pending"),
    ("16c-silent-timeout-ext", silent, "as 16b, ours with setlimits timeout 1 s (extension)"),
    ("17-two-literals", s10, "two sync literals in one command"),
    ("18-literal-plus", s10, "NONSYNCLITERAL set: two literals in one command"),
    ("19-null-proc", s19, "EXISTS entry with a NULL proc (page: no function invoked)"),
    ("20-close-pending", s20, "imclient_close with NOOP pending, server silent"),
    ("21-formats", s10, "%d -5, %u 4294967295, %v {a,'b c','',d\"e}, %%"),
    ("22-no-between-literals", s22, "two sync literals; '+' for the first, NO for the second"),
]


def escape(data):
    out = []
    for b in data:
        ch = chr(b)
        if ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n\n")
        elif ch == "\\":
            out.append("\\\\")
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def shorten_runs(text):
    """Collapse long runs of one character (the 1030-byte string)."""
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        if j - i > 12:
            out.append("%s<x%d>" % (text[i], j - i))
        else:
            out.append(text[i:j])
        i = j
    return "".join(out)


def run_one(binary, name, script):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    conn_box = {}

    def serve():
        lsock.settimeout(CLIENT_TIMEOUT + 2)
        try:
            sock, _ = lsock.accept()
        except OSError:
            return
        c = Conn(sock)
        conn_box["c"] = c
        try:
            script(c)
        finally:
            sock.close()

    thread = None
    if script is not None:
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
    t0 = time.monotonic()
    proc = subprocess.run(["timeout", str(CLIENT_TIMEOUT), binary, name, "127.0.0.1", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - t0
    if thread is not None:
        thread.join(CLIENT_TIMEOUT + 5)
    lsock.close()
    rc = proc.returncode
    if rc == 124:
        status = "HUNG (killed by timeout %ds)" % CLIENT_TIMEOUT
    elif rc < 0 or rc > 128:
        sig = -rc if rc < 0 else rc - 128
        status = "CRASHED (signal %d)" % sig
    else:
        status = "exit %d" % rc
    status += ", %.1fs" % elapsed
    out = proc.stdout.decode("latin-1")
    wire = escape(bytes(conn_box["c"].rx)) if "c" in conn_box else "(no connection)"
    return out, wire, status


def column(title, out, wire, status, width):
    lines = ["[%s] %s" % (title, status), "client events:"]
    for l in out.splitlines():
        lines += textwrap.wrap(l, width, subsequent_indent="    ") or [""]
    lines.append("bytes client->server:")
    for l in shorten_runs(wire).splitlines():
        lines += textwrap.wrap(l, width, subsequent_indent="    ",
                               drop_whitespace=False) or [""]
    return lines


def main():
    cyrus_bin, ours_bin = sys.argv[1], sys.argv[2]
    wanted = set(sys.argv[3:])
    width = 64
    for name, script, desc in SCENARIOS:
        if wanted and name not in wanted:
            continue
        left = column("Cyrus 3.6.1", *run_one(cyrus_bin, name, script), width)
        right = column("ours", *run_one(ours_bin, name, script), width)
        print("=" * (2 * width + 3))
        print("%s: %s" % (name, desc))
        print("-" * (2 * width + 3))
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            print("%-*s | %s" % (width, a, b))
    print("=" * (2 * width + 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
