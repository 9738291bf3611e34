"""A program on a pseudo-terminal, driven by waiting for its prompts.

The Perl binding asks for passwords on the terminal (cyrus_getpass, and
IMAP.pm's own prompt on /dev/tty), so its tests and cyradm run here on a
pty that is their controlling terminal and their standard input and
output: answers typed there reach every prompt, whichever file it reads.
"""
import os
import pty
import re
import select
import signal
import sys
import termios
import time


class Timeout(Exception):
    pass


class Session:
    def __init__(self, argv, env, cwd=None, timeout=30, transcript=None):
        self.timeout = timeout
        self.out = b""          # everything the program wrote, for checks
        self.seen = 0           # how far expect() has consumed self.out
        self.transcript = transcript
        pid, fd = pty.fork()
        if pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.status = None

    def _read(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.fd], [], [], left)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:           # EIO: the program closed the terminal
            data = b""
        if not data:
            raise EOFError
        self.out += data
        if self.transcript:
            self.transcript.write(data.decode("utf-8", "replace"))
            self.transcript.flush()
        return True

    def expect(self, pattern, timeout=None):
        """Wait for pattern (bytes regex) after what was consumed; return the
        match and consume up to its end."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = rx.search(self.out, self.seen)
            if m:
                self.seen = m.end()
                return m
            try:
                if not self._read(deadline):
                    raise Timeout("no %r within %ss; last output: %r"
                                  % (pattern, timeout or self.timeout,
                                     self.out[self.seen:][-400:]))
            except EOFError:
                raise Timeout("program ended before %r; last output: %r"
                              % (pattern, self.out[self.seen:][-400:]))

    def send(self, line):
        os.write(self.fd, line.encode() + b"\n")

    def send_secret(self, line, timeout=10):
        """Answer a password prompt once the program has turned echo off:
        prompts switch it with TCSAFLUSH, which drops what was typed
        before.  The pty's master shows the terminal's settings."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.fd)[3] & termios.ECHO:
            if time.monotonic() > deadline:
                raise Timeout("echo still on %ss after a password prompt" % timeout)
            time.sleep(0.01)
        self.send(line)

    def wait(self, timeout=None):
        """Read to the end and return the exit status (killing the program
        if it outlives the timeout)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while self._read(deadline) or time.monotonic() < deadline:
                pass
        except EOFError:
            pass
        for _ in range(50):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def text(self):
        return self.out.decode("utf-8", "replace").replace("\r\n", "\n")


def transcript_file(path):
    return open(path, "w", encoding="utf-8") if path else sys.stderr
