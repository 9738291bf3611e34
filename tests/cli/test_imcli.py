#!/usr/bin/env python3
"""imcli the way a person uses it: in a real pseudo-terminal, against the
Dovecot started by tests/servers, with STARTTLS and SCRAM-SHA-256.

Usage: test_imcli.py PATH/TO/imcli
Reads the servers' variables (IMC_DOVECOT_*, IMC_CA_FILE) from the
environment; without them it skips, unless IMC_REQUIRE_SERVERS=1.
Python 3 standard library only.
"""
import base64
import errno
import imaplib
import json
import os
import pty
import re
import select
import signal
import ssl
import subprocess
import sys
import tempfile

IMCLI = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
ENV = os.environ
WAIT = 60  # seconds: a bound so a hang fails instead of blocking the suite

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


class Pty:
    """imcli on a pseudo-terminal: the controlling terminal it prompts on."""

    def __init__(self, args, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(IMCLI, [IMCLI] + args, env or child_env())
            finally:
                os._exit(127)
        self.out = b""
        self.status = None

    def expect(self, pattern, since=0):
        """Reads until pattern (a bytes regex) appears in the output from
        offset since on."""
        rx = re.compile(pattern)
        while not rx.search(self.out, since):
            if not self._read_some():
                return None
        return rx.search(self.out, since)

    def _read_some(self):
        ready, _, _ = select.select([self.fd], [], [], WAIT)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError as e:  # EIO: the child closed the terminal
            if e.errno != errno.EIO:
                raise
            data = b""
        self.out += data
        return bool(data)

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self):
        """Drains the output and returns the exit status."""
        while self._read_some():
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait()


def child_env(extra=None):
    env = {"PATH": ENV.get("PATH", "/usr/bin:/bin"), "TERM": "vt100", "HOME": tempfile.gettempdir()}
    for k, v in ENV.items():
        if k.startswith(("ASAN_", "UBSAN_", "LSAN_")):
            env[k] = v
    env.update(extra or {})
    return env


def run(args, extra_env=None, stdin=b""):
    p = subprocess.run([IMCLI] + args, input=stdin, capture_output=True,
                       env=child_env(extra_env), timeout=WAIT)
    return p.returncode, p.stdout, p.stderr


def starttls_args(user=True):
    a = ["--cafile", ENV["IMC_CA_FILE"], "-p", ENV["IMC_DOVECOT_PORT"]]
    if user:
        a += ["-u", ENV["IMC_DOVECOT_USER"], "-m", "SCRAM-SHA-256"]
    return a


def host():
    return ENV["IMC_DOVECOT_HOST"]


def cmdline_of(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read()


def test_interactive(tmp):
    """Password at the no-echo prompt, SELECT and FETCH typed at imcli>."""
    password = ENV["IMC_DOVECOT_PASS"]
    trace = os.path.join(tmp, "interactive.trace")
    t = Pty(starttls_args() + ["--trace", trace, host()])
    try:
        check(t.expect(rb"Password for alice@") is not None, "interactive: asks for the password")
        check(password.encode() not in cmdline_of(t.pid), "interactive: password not in argv")
        before = len(t.out)
        t.send(password + "\r")
        check(t.expect(rb"imcli> ", before) is not None, "interactive: prompt after authenticating")
        typed_back = t.out[before:]
        check(password.encode() not in typed_back, "interactive: the password is not echoed")
        check(re.search(rb"S: \d+ OK .*Logged in", typed_back) is not None,
              "interactive: SCRAM-SHA-256 over STARTTLS logged in")

        mark = len(t.out)
        t.send("SELECT INBOX\r")
        m = t.expect(rb"S: (\d+) OK \[READ-WRITE\][^\r\n]*\r?\n(.|\n)*imcli> ", mark)
        check(m is not None, "interactive: SELECT INBOX completed")
        check(re.search(rb"C: \d+ SELECT INBOX\r?\n", t.out) is not None,
              "interactive: transcript shows the command with its tag")
        # Other tests may have added to the INBOX: its size is not fixed.
        check(re.search(rb"S: \* \d+ EXISTS", t.out) is not None, "interactive: SELECT's EXISTS")

        mark = len(t.out)
        t.send("UID FETCH 2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r")
        m = t.expect(rb"S: \d+ OK Fetch completed(.|\n)*imcli> ", mark)
        fetched = t.out[mark:]
        check(m is not None and b"Subject: Message 2: meeting on Tuesday" in fetched
              and b"\\Flagged" in fetched, "interactive: FETCH shows message 2")

        mark = len(t.out)
        t.send("APPEND INBOX {5}\r")
        check(t.expect(rb"literals cannot be typed(.|\n)*imcli> ", mark) is not None,
              "interactive: a typed literal is refused, the session goes on")

        t.send("LOGOUT\r")
        status = t.wait()
        check(status == 0, "interactive: LOGOUT ends with status 0 (got %s)" % status)
    finally:
        t.kill()
    with open(trace, "rb") as f:
        transcript = f.read()
    check(re.search(rb"C: \d+ AUTHENTICATE SCRAM-SHA-256 \[redacted\]", transcript) is not None,
          "transcript: the AUTHENTICATE response is redacted")
    check(re.search(rb"C: \d+ STARTTLS", transcript) and
          re.search(rb"C: \d+ UID FETCH 2 ", transcript) and b"S: * BYE" in transcript,
          "transcript: STARTTLS, the FETCH and the BYE are there")
    check(password.encode() not in transcript and password.encode() not in t.out,
          "transcript: the password appears nowhere")


def test_login_typed(tmp):
    """A LOGIN typed with a quoted password is redacted whole."""
    secret = "two words\\\"and a quote"
    code, out, err = run(starttls_args(user=False) + [host(), 'LOGIN alice "%s"' % secret])
    check(code == 1, "typed LOGIN with a wrong password: status 1 (got %d)" % code)
    check(re.search(rb'C: \d+ LOGIN alice \[redacted\]\r?\n', out) is not None,
          "typed LOGIN: the whole password is redacted")
    check(b"two" not in out and b"words" not in out and b"quote" not in out,
          "typed LOGIN: no piece of the password is shown")


def tokens_of_type(tokens, kind):
    for t in tokens:
        if t["type"] == kind:
            yield t
        if "items" in t:
            yield from tokens_of_type(t["items"], kind)


def test_json(tmp):
    env = {"IMC_PW": ENV["IMC_DOVECOT_PASS"]}
    quoted = 'imcli "quoted" \\ box'
    wire = '"' + quoted.replace("\\", "\\\\").replace('"', '\\"') + '"'
    code, out, err = run(["--json", "--password-env", "IMC_PW"] + starttls_args() +
                         [host(), "SELECT INBOX",
                          "UID FETCH 1:2 (UID FLAGS ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
                          "CREATE " + wire, 'LIST "" ' + wire, "DELETE " + wire], env)
    check(code == 0, "json: status 0 (got %d, %s)" % (code, err.decode(errors="replace")))
    objs = []
    for line in out.decode().splitlines():
        try:
            objs.append(json.loads(line))
        except ValueError:
            check(False, "json: line parses: %r" % line)
    check(len(objs) > 10 and all(isinstance(o, dict) for o in objs), "json: one object per line")
    exists = [o for o in objs if o.get("keyword") == "EXISTS"]
    check(exists and exists[0]["type"] == "untagged" and isinstance(exists[0]["number"], int)
          and exists[0]["number"] >= 5, "json: * n EXISTS is untagged, with its number")
    selected = [o for o in objs if o["type"] == "tagged" and o["tokens"]
                and o["tokens"][0]["type"] == "code"]
    check(any(o["tag"].isdigit() and o["keyword"] == "OK" and
              o["tokens"][0]["items"][0] == {"type": "atom", "value": "READ-WRITE"}
              for o in selected), "json: SELECT's tagged OK with its [READ-WRITE] code")
    fetches = [o for o in objs if o.get("keyword") == "FETCH"]
    check(len(fetches) == 2, "json: two FETCH responses")
    if fetches:
        f = fetches[0]
        top = f["tokens"][0]
        check(top["type"] == "list" and top["items"][0] == {"type": "atom", "value": "UID"}
              and top["items"][1] == {"type": "number", "value": 1},
              "json: FETCH is a list starting UID 1 (atom, number)")
        lits = list(tokens_of_type(f["tokens"], "literal"))
        check(len(lits) == 1 and lits[0]["value"] == "Subject: Message 1: hello\r\n\r\n"
              and lits[0]["size"] == len(lits[0]["value"].encode()),
              "json: the header literal, its size and its bytes")
        strings = [t["value"] for t in tokens_of_type(f["tokens"], "string")]
        check("Message 1: hello" in strings, "json: ENVELOPE's subject as a string")
        check(any(True for _ in tokens_of_type(f["tokens"], "nil")), "json: NIL in ENVELOPE")
        check(any(t["type"] == "list" for t in tokens_of_type(top["items"], "list")),
              "json: nested lists")
    lists = [o for o in objs if o.get("keyword") == "LIST"]
    names = [t["value"] for o in lists for t in tokens_of_type(o["tokens"], "string")]
    check(quoted in names, "json: a quoted string with \" and \\ comes back unescaped")


def append_as_bob(message):
    """Stores message in bob's INBOX through imaplib; returns its UID."""
    ctx = ssl.create_default_context(cafile=ENV["IMC_CA_FILE"])
    m = imaplib.IMAP4_SSL(host(), int(ENV["IMC_DOVECOT_IMAPS_PORT"]), ssl_context=ctx)
    try:
        m.login(ENV["IMC_DOVECOT_USER2"], ENV["IMC_DOVECOT_PASS2"])
        typ, data = m.append("INBOX", None, None, message)
        code = re.search(rb"APPENDUID \d+ (\d+)", data[0])
        return int(code.group(1))
    finally:
        m.logout()


def test_hostile_bytes(tmp):
    """A message holding a terminal escape sequence and bytes that are not
    UTF-8: the transcript escapes them, --json keeps them in base64."""
    body = b"Subject: bytes\r\n\r\nclear\x1b[2Jscreen \xff\xfe \xc3\xa9t\xc3\xa9\r\n"
    uid = append_as_bob(body)
    env = {"IMC_PW": ENV["IMC_DOVECOT_PASS2"]}
    args = ["--cafile", ENV["IMC_CA_FILE"], "-p", ENV["IMC_DOVECOT_PORT"],
            "-u", ENV["IMC_DOVECOT_USER2"], "--password-env", "IMC_PW"]
    fetch = "UID FETCH %d BODY.PEEK[]" % uid
    code, out, err = run(args + [host(), "EXAMINE INBOX", fetch], env)
    check(code == 0 and b"\x1b" not in out, "hostile bytes: no raw ESC reaches the terminal")
    check(b"clear\\x1B[2Jscreen \\xFF\\xFE \xc3\xa9t\xc3\xa9" in out,
          "hostile bytes: ESC and bad UTF-8 shown as \\xNN, good UTF-8 kept")
    code, out, err = run(["--json"] + args + [host(), "EXAMINE INBOX", fetch], env)
    objs = [json.loads(line) for line in out.decode().splitlines()]
    lits = [t for o in objs if o.get("keyword") == "FETCH" for t in tokens_of_type(o["tokens"], "literal")]
    check(len(lits) == 1 and "value" not in lits[0] and base64.b64decode(lits[0]["base64"]) == body,
          "hostile bytes: --json gives the literal's exact bytes in base64")


def imaplib_message(uid):
    ctx = ssl.create_default_context(cafile=ENV["IMC_CA_FILE"])
    m = imaplib.IMAP4_SSL(host(), int(ENV["IMC_DOVECOT_IMAPS_PORT"]), ssl_context=ctx)
    try:
        m.login(ENV["IMC_DOVECOT_USER"], ENV["IMC_DOVECOT_PASS"])
        m.select("INBOX", readonly=True)
        typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
        return data[0][1]
    finally:
        m.logout()


def test_fetch(tmp):
    env = {"IMC_PW": ENV["IMC_DOVECOT_PASS"]}
    common = ["--implicit-tls", "--cafile", ENV["IMC_CA_FILE"], "-p", ENV["IMC_DOVECOT_IMAPS_PORT"],
              "-u", ENV["IMC_DOVECOT_USER"], "--password-env", "IMC_PW"]
    for uid in (3, 5):
        path = os.path.join(tmp, "msg%d.eml" % uid)
        code, out, err = run(common + ["--fetch", "INBOX", str(uid), path, host()], env)
        check(code == 0, "fetch UID %d: status 0 (got %d, %s)" % (uid, code, err.decode(errors="replace")))
        with open(path, "rb") as f:
            saved = f.read()
        check(saved == imaplib_message(uid), "fetch UID %d: exactly the message's %d bytes" % (uid, len(saved)))
        check(b"fetching:" not in err, "fetch UID %d: no progress line when stderr is a pipe" % uid)
        check(out == b"", "fetch UID %d: nothing on stdout" % uid)

    path = os.path.join(tmp, "tty.eml")
    t = Pty(common + ["--fetch", "INBOX", "3", path, host()], child_env(env))
    status = t.wait()
    check(status == 0 and re.search(rb"fetching: \d+ of \d+ bytes \(100%\)", t.out) is not None,
          "fetch on a terminal: a progress line reaching 100%")

    missing = os.path.join(tmp, "missing.eml")
    code, out, err = run(common + ["--fetch", "INBOX", "999", missing, host()], env)
    check(code == 1 and not os.path.exists(missing) and not any(
        n.startswith("missing.eml") for n in os.listdir(tmp)),
        "fetch of a UID that does not exist: status 1, no file left")


def test_exit_codes(tmp):
    password = ENV["IMC_DOVECOT_PASS"]
    t = Pty(starttls_args() + [host()])
    try:
        t.expect(rb"Password for")
        t.send("not-" + password + "\r")
        status = t.wait()
    finally:
        t.kill()
    check(status == 5, "wrong password: status 5 (got %s)" % status)
    check(b"authentication failed" in t.out and b"not-" + password.encode() not in t.out,
          "wrong password: says so, without echoing it")

    env = {"IMC_PW": password}
    untrusted = ["-p", ENV["IMC_DOVECOT_PORT"], "-u", ENV["IMC_DOVECOT_USER"],
                 "--password-env", "IMC_PW", host(), "NOOP"]
    code, out, err = run(untrusted, env)
    check(code == 4 and b"verify" in err, "CA not trusted (system store): status 4 (got %d)" % code)
    check(b"AUTHENTICATE" not in out, "CA not trusted: nothing after the refused handshake")
    code, out, err = run(["--insecure-no-verify"] + untrusted, env)
    check(code == 0 and b"WARNING" in err and b"insecure-no-verify" in err,
          "--insecure-no-verify connects, with a warning (got %d)" % code)

    code, out, err = run(["--password", password, host()])
    check(code == 2 and out == b"" and b"not accepted" in err, "--password: usage error 2 (got %d)" % code)
    code, out, err = run(["--fetch", "INBOX", "x", "f", host()])
    check(code == 2, "--fetch with a bad UID: usage error 2 (got %d)" % code)
    code, out, err = run([])
    check(code == 2 and b"no HOST" in err, "no host: usage error 2 (got %d)" % code)
    code, out, err = run(["--help"])
    check(code == 0 and b"usage: imcli" in out, "--help: status 0")

    code, out, err = run(["--password-env", "IMC_PW"] + starttls_args() + [host(), "SELECT no-such-box", "NOOP"], env)
    check(code == 1 and re.search(rb"S: \d+ NO ", out) is not None and b"NOOP" not in out.split(b"SELECT")[-1],
          "a NO ends a non-interactive run with status 1, later commands unsent (got %d)" % code)
    code, out, err = run(["--password-env", "IMC_PW"] + starttls_args() + [host()], env,
                         stdin=b"SELECT INBOX\nNOOP\n")
    check(code == 0 and re.search(rb"C: \d+ NOOP", out) is not None, "commands from a pipe: status 0")

    pwfile = os.path.join(tmp, "pw")
    with open(pwfile, "w") as f:
        f.write(password + "\n")
    code, out, err = run(["--password-file", pwfile] + starttls_args() + [host(), "NOOP"])
    check(code == 0 and password.encode() not in out + err, "--password-file: status 0 (got %d)" % code)


def main():
    if IMCLI is None:
        print("usage: test_imcli.py PATH/TO/imcli", file=sys.stderr)
        return 2
    if not ENV.get("IMC_DOVECOT_HOST") or not ENV.get("IMC_CA_FILE"):
        if ENV.get("IMC_REQUIRE_SERVERS") == "1":
            print("test_imcli: IMC_REQUIRE_SERVERS=1 but no server variables "
                  "(load DIR/env of tests/servers/all.sh)", file=sys.stderr)
            return 1
        print("skipped: no servers")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for test in (test_interactive, test_login_typed, test_json, test_hostile_bytes, test_fetch,
                     test_exit_codes):
            test(tmp)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
