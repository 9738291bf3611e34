#!/usr/bin/env bash
# all.sh start DIR | stop DIR
#
# Starts every throwaway server under DIR: a CA (DIR/ca), a Kerberos KDC
# (DIR/kdc), Dovecot (DIR/dovecot) and Cyrus (DIR/cyrus), the last two with
# GSSAPI against that KDC, and writes DIR/env with all their variables
# (KEY=VALUE lines; `set -a; . DIR/env; set +a`).
# IMC_SERVERS (default "kdc dovecot cyrus") picks a subset.
# stop tears down whatever is running there; it tolerates a partial start.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

usage() { echo "usage: $0 start DIR | stop DIR" >&2; exit 64; }

stop_all() { # dir -> status 1 if anything could not be stopped
  local d=$1 rc=0
  [ -d "$d" ] || return 0
  rm -f "$d/env"
  "$here/cyrus.sh" stop "$d/cyrus" || rc=1
  "$here/dovecot.sh" stop "$d/dovecot" || rc=1
  "$here/kdc.sh" stop "$d/kdc" || rc=1
  return "$rc"
}

start_all() {
  local d=$1 servers=${IMC_SERVERS:-kdc dovecot cyrus} s f pid
  local -a kdc=()
  for s in $servers; do
    case $s in kdc | dovecot | cyrus) ;; *) die "unknown server '$s' in IMC_SERVERS" ;; esac
  done
  d=$(abs_dir "$d")
  for s in kdc dovecot cyrus; do
    if pid=$(recorded_pid "$d/$s/server.pid"); then
      die "$s already running in $d/$s (pid $pid); run '$0 stop $d' first"
    fi
  done
  chmod 0755 "$d"
  rm -f "$d/env"
  # on any failure, take down what did start
  started_dir=$d
  trap 'rc=$?; if [ "$rc" != 0 ]; then echo "$(basename "$0"): start failed, stopping what started" >&2; stop_all "$started_dir" || true; fi' EXIT

  export IMC_CA_DIR=$d/ca
  "$here/ca.sh" "$IMC_CA_DIR"
  case " $servers " in *" kdc "*)
    "$here/kdc.sh" start "$d/kdc"
    kdc=("$d/kdc") ;;
  esac
  case " $servers " in *" dovecot "*) "$here/dovecot.sh" start "$d/dovecot" "${kdc[@]}" ;; esac
  case " $servers " in *" cyrus "*) "$here/cyrus.sh" start "$d/cyrus" "${kdc[@]}" ;; esac

  {
    echo "# Servers started by tests/servers/all.sh; load with: set -a; . $d/env; set +a"
    env_line IMC_SERVERS_DIR "$d"
    for s in kdc dovecot cyrus; do
      f=$d/$s/env
      case " $servers " in *" $s "*) [ -f "$f" ] && grep -v '^#' "$f" ;; esac
    done | awk '!seen[$0]++'
  } >"$d/env.tmp"
  mv "$d/env.tmp" "$d/env"
  trap - EXIT
}

case ${1:-} in
  start) [ $# -eq 2 ] || usage; start_all "$2" ;;
  stop) [ $# -eq 2 ] || usage; stop_all "$2" ;;
  *) usage ;;
esac
