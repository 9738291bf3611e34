#!/usr/bin/env python3
"""cyradm, typed at by a script, doing an administrator's work on Cyrus.

usage: cyradm_session.py IMAPDIR HOST OPEN_PORT [TRANSCRIPT]

In the environment: the careful Cyrus's IMC_CYRUS_* (on HOST:143) and
IMC_CA_FILE / IMC_CA_DIR.  OPEN_PORT is a Cyrus that offers PLAIN in the
clear, where the library must refuse to send it.

  1. SCRAM-SHA-256 over plain text: create, list, rename and delete
     mailboxes named with spaces and non-ASCII letters, set and list ACLs,
     set and read a quota.
  2. PLAIN: cyradm sees LOGINDISABLED, starts TLS (verified against the
     test CA), authenticates, reads the quota set in 1.
  3. PLAIN in the clear, through Cyrus::IMAP: refused, nothing logged in.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pty_expect import Session, Timeout, transcript_file  # noqa: E402

PROMPT = rb"\n?[\w.-]+> "
failures = []


def check(what, ok, detail=""):
    print("%s: %s%s" % ("ok" if ok else "FAILED", what, "" if ok or not detail else " -- " + detail))
    if not ok:
        failures.append(what)


class Cyradm:
    def __init__(self, imapdir, args, password, log):
        argv = ["perl", "-Iblib/lib", "-Iblib/arch", "-MCyrus::IMAP::Shell", "-e", "shell",
                "--"] + args
        env = dict(os.environ, TERM="dumb")
        self.s = Session(argv, env, cwd=imapdir, timeout=30, transcript=log)
        self.s.expect(rb"Password: ")
        self.s.send_secret(password)
        self.s.expect(PROMPT)

    def run(self, command):
        """Type a command; return what it printed before the next prompt."""
        self.s.send(command)
        start = self.s.seen
        m = self.s.expect(PROMPT)
        said = self.s.out[start:m.start()].decode("utf-8", "replace").replace("\r\n", "\n")
        # The terminal echoes the command line first.
        return said.split("\n", 1)[1] if "\n" in said else ""

    def quit(self):
        self.s.send("quit")
        return self.s.wait()


def administer(imapdir, host, admin, password, log):
    c = Cyradm(imapdir, ["--user", admin, "--auth", "SCRAM-SHA-256", host], password, log)
    # Modified UTF-7 is IMAP's spelling of "Grüße"; Cyrus 3.6 takes no raw UTF-8.
    plans, greet, old = "user/alice/Project Plans", "user/alice/Gr&APwA3w-e", "user/alice/Old Plans"
    check("create a mailbox with spaces", c.run('cm "%s"' % plans) == "")
    check("create a mailbox with non-ASCII letters", c.run('cm "%s"' % greet) == "")
    listing = c.run("lm user/alice/*")
    check("list shows both", plans in listing and greet in listing, listing)
    check("rename", c.run('renm "%s" "%s"' % (plans, old)) == "")
    listing = c.run("lm user/alice/*")
    check("list shows the new name only", old in listing and plans not in listing, listing)
    check("set an ACL", c.run('sam "%s" bob lrs' % old) == "")
    acl = c.run('lam "%s"' % old)
    check("list ACLs", re.search(r"^bob lrs\s*$", acl, re.M) is not None, acl)
    check("set a quota", c.run("sq user/alice STORAGE 1000") == "")
    quota = c.run("lq user/alice")
    check("read the quota", "STORAGE 0/1000" in quota, quota)
    # An administrator deletes only with the x right (cyradm's own manual).
    for box in (old, greet):
        c.run('sam "%s" %s x' % (box, admin))
        check("delete %s" % box, c.run('dm "%s"' % box) == "")
    listing = c.run("lm user/alice/*")
    check("list shows them gone", old not in listing and greet not in listing, listing)
    check("cyradm exits cleanly", c.quit() == 0)


def plain_over_starttls(imapdir, host, admin, password, log):
    c = Cyradm(imapdir, ["--user", admin, "--auth", "PLAIN", "--cafile", os.environ["IMC_CA_FILE"],
                         "--cadir", os.environ["IMC_CA_DIR"], host], password, log)
    quota = c.run("lq user/alice")
    check("PLAIN after STARTTLS reads the quota", "STORAGE 0/1000" in quota, quota)
    check("cyradm exits cleanly", c.quit() == 0)


REFUSAL = r"""
use Cyrus::IMAP;
my ($host, $port, $user, $pass) = @ARGV;
my $c = Cyrus::IMAP->new($host, $port);
my @caps = $c->send(undef, undef, 'CAPABILITY');
my $ok = $c->_authenticate('PLAIN', 'imap', '', $user, $pass, 0, 10000);
print "authenticate: ", ($ok ? "yes" : "no"), "\n";
my ($kw, $text) = $c->send(undef, undef, 'SELECT INBOX');
print "select: $kw\n";
"""


def plain_refused_in_clear(imapdir, host, port, user, password):
    out = subprocess.run(["perl", "-Iblib/lib", "-Iblib/arch", "-e", REFUSAL, host, port, user,
                          password], cwd=imapdir, capture_output=True, text=True, timeout=60)
    check("PLAIN in the clear is refused", "authenticate: no" in out.stdout, out.stdout + out.stderr)
    check("and the connection is not logged in", re.search(r"select: (NO|BAD)", out.stdout)
          is not None, out.stdout + out.stderr)


def main():
    imapdir, host, open_port = sys.argv[1:4]
    log = transcript_file(sys.argv[4] if len(sys.argv) > 4 else None)
    admin, password = os.environ["IMC_CYRUS_ADMIN"], os.environ["IMC_CYRUS_ADMIN_PASS"]
    for step in (lambda: administer(imapdir, host, admin, password, log),
                 lambda: plain_over_starttls(imapdir, host, admin, password, log),
                 lambda: plain_refused_in_clear(imapdir, host, open_port,
                                                os.environ["IMC_CYRUS_USER"],
                                                os.environ["IMC_CYRUS_PASS"])):
        try:
            step()
        except Timeout as e:
            check("cyradm answered", False, str(e))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
