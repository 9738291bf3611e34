#!/usr/bin/env python3
"""Readiness probe for the throwaway servers in tests/servers/.

  probe.py ready PGID TIMEOUT PATTERN ENDPOINT...

ENDPOINT is HOST:PORT (plain), HOST:PORT:tls:CAFILE (implicit TLS, verified
against CAFILE) or HOST:PORT:listen (only checked to be listened on).

Waits until every endpoint's port is listened on by a process of process group
PGID, then reads the greeting of each plain/tls endpoint and requires PATTERN
in it. "Port open" is not "ready": the greeting proves a server process runs.

Exit status: 0 ready; 1 timeout; 2 a port is held by a process outside PGID
(someone else took it: retry with other ports); 3 the process group is gone.
"""
import os
import socket
import ssl
import sys
import time


def listening_inodes(port):
    """Inodes of sockets listening on 127.0.0.1:port or 0.0.0.0:port."""
    found = set()
    want = {"0100007F:%04X" % port, "00000000:%04X" % port}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and (fields[1] in want or
                                              fields[1].endswith(":%04X" % port) and table.endswith("6")):
                        found.add(fields[9])
        except OSError:
            pass
    return found


def group_members(pgid):
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if rest[0] != "Z" and int(rest[2]) == pgid:
            members.append(name)
    return members


def socket_inodes_of(pids):
    inodes = set()
    for pid in pids:
        fddir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fddir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fddir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def greeting(host, port, cafile, timeout):
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if cafile:
            ctx = ssl.create_default_context(cafile=cafile)
            sock = ctx.wrap_socket(sock, server_hostname=host)
        data = b""
        while not data.endswith(b"\n") and len(data) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode("utf-8", "replace").strip()
    finally:
        sock.close()


def ready(pgid, timeout, pattern, endpoints):
    deadline = time.monotonic() + timeout
    parsed = []
    for ep in endpoints:
        parts = ep.split(":")
        host, port = parts[0], int(parts[1])
        kind = parts[2] if len(parts) > 2 else "plain"
        cafile = ":".join(parts[3:]) if kind == "tls" else None
        parsed.append((host, port, kind, cafile))

    # 1. every port listened on, by our group
    pending = list(parsed)
    while pending:
        members = group_members(pgid)
        if not members:
            print("probe: process group %d is gone" % pgid, file=sys.stderr)
            return 3
        ours = socket_inodes_of(members)
        still = []
        for ep in pending:
            inodes = listening_inodes(ep[1])
            if not inodes:
                still.append(ep)
            elif not inodes & ours:
                # Give the server a moment: the fd may be in flight between
                # processes; but a listener nobody in the group holds is foreign.
                time.sleep(0.05)
                if not listening_inodes(ep[1]) & socket_inodes_of(group_members(pgid)):
                    print("probe: port %d is held by a process outside group %d"
                          % (ep[1], pgid), file=sys.stderr)
                    return 2
        pending = still
        if pending:
            if time.monotonic() > deadline:
                print("probe: timeout waiting for port(s) %s" %
                      ", ".join(str(ep[1]) for ep in pending), file=sys.stderr)
                return 1
            time.sleep(0.02)

    # 2. a greeting carrying PATTERN on each plain/tls endpoint
    for host, port, kind, cafile in parsed:
        if kind == "listen":
            continue
        last = ""
        while True:
            try:
                last = greeting(host, port, cafile, max(0.5, deadline - time.monotonic()))
                if pattern in last:
                    break
            except (OSError, ssl.SSLError) as e:
                last = "%s: %s" % (type(e).__name__, e)
            if not group_members(pgid):
                print("probe: process group %d is gone" % pgid, file=sys.stderr)
                return 3
            if time.monotonic() > deadline:
                print("probe: no greeting with %r on %s:%d (last: %s)"
                      % (pattern, host, port, last), file=sys.stderr)
                return 1
            time.sleep(0.05)
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "ready":
        return ready(int(argv[2]), float(argv[3]), argv[4], argv[5:])
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
