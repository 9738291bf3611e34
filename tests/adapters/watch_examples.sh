#!/usr/bin/env bash
# examples/libevent_watch and examples/libuv_watch against Dovecot and
# Cyrus: three connections on one loop log in, select INBOX and idle;
# another client (Python's imaplib) appends a message, and every connection
# must print the new EXISTS while it idles, then log out when its time is
# up.  The message is expunged again afterwards.
# Usage: watch_examples.sh BUILD_DIR
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
build=$1
if [ -z "${IMC_DOVECOT_PORT:-}" ] || [ -z "${IMC_CYRUS_PORT:-}" ]; then
  [ "${IMC_REQUIRE_SERVERS:-0}" = 1 ] && { echo "watch_examples: no servers in the environment"; exit 1; }
  echo "watch_examples: skipped: no servers"; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0

imap() { # PORT USER PASS append|expunge SUBJECT
  python3 - "$@" <<'PY'
import imaplib, sys
port, user, password, action, subject = sys.argv[1:6]
m = imaplib.IMAP4("127.0.0.1", int(port))
m.login(user, password)
if action == "append":
    m.append("INBOX", None, None,
             ("From: carol@example.org\r\nSubject: %s\r\n\r\nhi\r\n" % subject).encode())
else:
    m.select("INBOX")
    _, data = m.search(None, "HEADER", "Subject", subject)
    for n in data[0].split():
        m.store(n, "+FLAGS", "\\Deleted")
    m.expunge()
m.logout()
PY
}

for example in libevent_watch libuv_watch; do
  if [ ! -x "$build/examples/$example" ]; then
    echo "watch_examples: $example not built (library not installed)"
    continue
  fi
  for server in DOVECOT CYRUS; do
    port_var=IMC_${server}_PORT user_var=IMC_${server}_USER pass_var=IMC_${server}_PASS
    port=${!port_var} user=${!user_var} pass=${!pass_var}
    subject="watch-$$-$example-$server"
    # The example's seconds count from its start: logging in, idling and
    # the append below must fit in them even on a loaded machine.
    IMAP_PASSWORD=$pass timeout 60 "$build/examples/$example" 127.0.0.1 "$port" "$user" 3 12 \
      > "$work/out" 2> "$work/err" &
    pid=$!
    for _ in $(seq 100); do
      [ "$(grep -c 'idling$' "$work/out")" = 3 ] && break
      sleep 0.1
    done
    sleep 0.3
    imap "$port" "$user" "$pass" append "$subject"
    status=0
    wait "$pid" || status=$?
    imap "$port" "$user" "$pass" expunge "$subject"
    if [ "$status" != 0 ]; then
      echo "$example on $server failed ($status):"; cat "$work/out" "$work/err"; exit 1
    fi
    for id in 1 2 3; do
      # After "[id] idling", an EXISTS for the new message, then the logout.
      if ! sed -n "/^\[$id\] idling$/,\$p" "$work/out" | grep -q "^\[$id\] \* [0-9]* EXISTS$" ||
         ! grep -q "^\[$id\] logged out$" "$work/out"; then
        echo "$example on $server: connection $id did not see the new message:"
        cat "$work/out" "$work/err"; exit 1
      fi
    done
    passed=$((passed + 1))
  done
done
echo "watch_examples: $passed passed, 0 failed"
