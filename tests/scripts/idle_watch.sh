#!/usr/bin/env bash
# examples/idle_watch against Dovecot and Cyrus: it idles on a fresh
# mailbox, Python's imaplib (another client, another connection) appends a
# message, and the example must print it as new mail while it idles.
# Usage: idle_watch.sh BUILD_DIR
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
build=$1
if [ -z "${IMC_DOVECOT_PORT:-}" ] || [ -z "${IMC_CYRUS_PORT:-}" ]; then
  [ "${IMC_REQUIRE_SERVERS:-0}" = 1 ] && { echo "idle_watch: no servers in the environment"; exit 1; }
  echo "idle_watch: skipped: no servers"; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0

imap() { # PORT USER PASS ACTION MAILBOX
  python3 - "$@" <<'PY'
import imaplib, sys
port, user, password, action, box = sys.argv[1:6]
m = imaplib.IMAP4("127.0.0.1", int(port))
m.login(user, password)
if action == "create":
    m.create(box)
elif action == "append":
    m.append(box, None, None, b"From: carol@example.org\r\nSubject: hello idle\r\n\r\nhi\r\n")
else:
    m.delete(box)
m.logout()
PY
}

for server in DOVECOT CYRUS; do
  port_var=IMC_${server}_PORT user_var=IMC_${server}_USER pass_var=IMC_${server}_PASS
  port=${!port_var} user=${!user_var} pass=${!pass_var}
  box="watch-$$-$server"
  imap "$port" "$user" "$pass" create "$box"
  IMAP_PASSWORD=$pass timeout 60 "$build/examples/idle_watch" 127.0.0.1 "$port" "$user" "$box" "" 8 \
    > "$work/out" 2> "$work/err" &
  pid=$!
  for _ in $(seq 50); do grep -q '^watching' "$work/out" && break; sleep 0.1; done
  sleep 0.5
  imap "$port" "$user" "$pass" append "$box"
  wait "$pid" || { echo "idle_watch on $server failed:"; cat "$work/out" "$work/err"; exit 1; }
  imap "$port" "$user" "$pass" delete "$box"
  cat "$work/out"
  grep -q "^watching $box: 0 messages" "$work/out"
  grep -q "^new: 1 from carol@example.org subject hello idle" "$work/out"
  passed=$((passed + 1))
done
echo "idle_watch: $passed passed, 0 failed"
