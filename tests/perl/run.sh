#!/usr/bin/env bash
# run.sh BUILD_DIR [SANITIZER_CFLAGS]
#
# Cyrus's own Perl binding (Cyrus::IMAP, Cyrus::IMAP::Admin, cyradm) built
# against the SDK installed from BUILD_DIR, then run against throwaway
# Cyrus imapd servers: t/01-imclient.t and t/02-admin.t answered on a pty,
# a scripted cyradm session (cyradm_session.py), and PLAIN refused in the
# clear.
#
# The binding's tests cannot name a port, so their Cyrus listens on 143,
# inside a private network namespace (unshare -n) where that port is free
# whatever else runs on the machine. It is configured as a careful site:
# no plaintext logins before STARTTLS (IMC_CYRUS_ALLOWPLAINTEXT=no), so the
# binding starts TLS itself. The suite's CA reaches the library as an
# administrator's would, through OpenSSL's SSL_CERT_FILE. A second Cyrus
# with the suite's usual config (PLAIN offered in the clear) shows the
# library refusing it.
#
# Skips (exit 0) when the suite's servers were not started, unless
# IMC_REQUIRE_SERVERS=1; needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ "${1:-}" = --in-netns ]; then
  shift
  inside=1
else
  inside=0
fi
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [SANITIZER_CFLAGS]" >&2; exit 64; }
# The second argument is the build's sanitizer flags: the binding itself is
# compiled as Perl's modules are, but a sanitized libcyrus needs its runtime.
build=$(cd "$1" && pwd) sanitize=${2:-}
work=$build/tests/perl

skip() {
  if [ "${IMC_REQUIRE_SERVERS:-0}" = 1 ]; then
    echo "perl: IMC_REQUIRE_SERVERS=1 but $*" >&2
    exit 1
  fi
  echo "skipped: $*"
  exit 0
}

outside() {
  [ -n "${IMC_CYRUS_PORT:-}" ] && [ -n "${IMC_CA_DIR:-}" ] ||
    skip "no servers (start tests/servers/all.sh and load its env)"
  [ "$(id -u)" = 0 ] || skip "not root (Cyrus on port 143 in a network namespace)"
  command -v unshare >/dev/null || skip "no unshare(1)"
  src=$(bash "$root/scripts/fetch-cyrus-source.sh") || skip "no Cyrus source (scripts/fetch-cyrus-source.sh)"
  echo "== build: Cyrus perl/imap against $build's SDK"
  bash "$here/build.sh" "$build" "$src" "$work"
  exec unshare --net bash "$0" --in-netns "$build" "$sanitize"
}

# The sanitizer build's libcyrus expects the ASan runtime in the
# executable; perl has none, so it is preloaded.
sanitizer_env() {
  case $sanitize in *-fsanitize=address*) ;; *) return 0 ;; esac
  local rt
  rt=$(clang-14 -print-file-name=libclang_rt.asan-x86_64.so)
  [ -f "$rt" ] || { echo "perl: no $rt for the sanitizer build" >&2; exit 1; }
  export LD_PRELOAD=$rt
  # perl frees little at exit; leaks are the C tests' business.
  export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:abort_on_error=0
}

inside() {
  local servers status=0
  ip link set lo up
  servers=$(mktemp -d /tmp/imc-perl.XXXXXX)
  chmod 755 "$servers"
  # shellcheck disable=SC2064
  trap "bash '$root/tests/servers/cyrus.sh' stop '$servers/careful' >/dev/null 2>&1 || true;
        bash '$root/tests/servers/cyrus.sh' stop '$servers/open' >/dev/null 2>&1 || true;
        rm -rf '$servers'" EXIT
  export IMC_SERVERS_QUIET=1
  IMC_CYRUS_ALLOWPLAINTEXT=no IMC_CYRUS_IMAP_PORT=143 \
    bash "$root/tests/servers/cyrus.sh" start "$servers/careful"
  bash "$root/tests/servers/cyrus.sh" start "$servers/open"
  local open_port
  open_port=$(. "$servers/open/env"; echo "$IMC_CYRUS_PORT")
  set -a
  # shellcheck disable=SC1091
  . "$servers/careful/env"
  set +a
  export SSL_CERT_FILE=$IMC_CA_FILE
  sanitizer_env

  echo "== Cyrus's t/01-imclient.t and t/02-admin.t (careful Cyrus on localhost:143)"
  python3 "$here/binding_tests.py" "$work/imap" localhost \
    "$IMC_CYRUS_USER" "$IMC_CYRUS_PASS" "$IMC_CYRUS_USER2" "$IMC_CYRUS_PASS2" \
    "$work/binding_tests.log" || status=1

  echo "== cyradm session"
  python3 "$here/cyradm_session.py" "$work/imap" localhost "$open_port" \
    "$work/cyradm_session.log" || status=1
  [ "$status" = 0 ] || echo "transcripts: $work/binding_tests.log, $work/cyradm_session.log"
  return "$status"
}

if [ "$inside" = 1 ]; then inside; else outside; fi
