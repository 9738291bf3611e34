# shellcheck shell=bash disable=SC2086,SC2034
# Shared helpers for the throwaway-server scripts in tests/servers/.
# Sourced, not executed. Everything here acts on PIDs and process groups the
# scripts recorded themselves; nothing looks processes up by name.
# (SC2086: /proc/PID/stat fields are split on purpose; SC2034: STARTED_PID is
# read by the sourcing script.)

SERVERS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}

die() {
  echo "$(basename "$0"): error: $*" >&2
  exit 1
}

note() {
  [ -n "${IMC_SERVERS_QUIET:-}" ] || echo "$(basename "$0"): $*" >&2
}

# abs_dir DIR: create DIR if needed and print its absolute path.
abs_dir() {
  mkdir -p -- "$1"
  (cd -- "$1" && pwd -P)
}

# Every ancestor of a path must be searchable by the unprivileged user the
# server runs as, or the server fails later with an obscure error.
check_traversable() { # user path
  local user=$1 path=$2
  if ! setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
      test -x "$path" 2>/dev/null; then
    die "$path is not reachable by user '$user': make every parent directory \
searchable (chmod o+x), e.g. do not put it under a 0700 mktemp directory"
  fi
}

# free_ports N: print N distinct free TCP ports on 127.0.0.1, one per line.
# All sockets are held open together so the kernel hands out distinct ports.
# The port can still be taken by someone else before the server binds it;
# callers check ownership after start (owned_port) and retry.
free_ports() {
  "$PYTHON" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# proc_starttime PID: the start time of PID (field 22 of /proc/PID/stat),
# used to make sure a recorded PID was not recycled by another process.
proc_starttime() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }            # drop "pid (comm) ", comm may contain spaces
  set -- $stat                 # field 3 of the file is $1 now
  echo "${20}"
}

proc_state() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  set -- $stat
  echo "$1"
}

# group_alive PGID: true while any non-zombie process is in process group PGID.
group_alive() {
  local pgid=$1 f stat
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    stat=${stat##*) }
    set -- $stat
    [ "$3" = "$pgid" ] && [ "$1" != Z ] && return 0
  done
  return 1
}

# start_group LOGFILE PIDFILE CMD...: run CMD in a new session (so it leads its
# own process group), output to LOGFILE, and record "PID STARTTIME" in PIDFILE.
start_group() {
  local log=$1 pidfile=$2 pid st
  shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 &
  pid=$!
  st=$(proc_starttime "$pid") || st=0
  echo "$pid $st" >"$pidfile"
  STARTED_PID=$pid
}

# recorded_pid PIDFILE: print the PID from PIDFILE if that process still
# exists and is the one we started (same start time); fail otherwise.
recorded_pid() {
  local pidfile=$1 pid st now
  [ -f "$pidfile" ] || return 1
  read -r pid st <"$pidfile" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  now=$(proc_starttime "$pid") || return 1
  [ "$st" = 0 ] || [ "$now" = "$st" ] || return 1
  echo "$pid"
}

# descendants PID: "PID:STARTTIME" of every live descendant of PID, whatever
# its process group
# (Cyrus's master may move children into groups of their own).
descendants() {
  local root=$1 f stat pid ppid changed=1
  local -A parent=() mine=([$root]=1)
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    pid=${stat%% *}
    stat=${stat##*) }
    set -- $stat
    [ "$1" = Z ] && continue
    parent[$pid]=$2
  done
  while [ "$changed" = 1 ]; do
    changed=0
    for pid in "${!parent[@]}"; do
      ppid=${parent[$pid]}
      if [ -n "${mine[$ppid]:-}" ] && [ -z "${mine[$pid]:-}" ]; then
        mine[$pid]=1
        changed=1
      fi
    done
  done
  for pid in "${!mine[@]}"; do
    [ "$pid" = "$root" ] || echo "$pid:$(proc_starttime "$pid" || echo gone)"
  done
}

# still_same PID:STARTTIME: true while that very process lives (not a zombie,
# and its PID not recycled).
still_same() {
  local st
  [ "$(proc_state "${1%%:*}" || echo gone)" != Z ] || return 1
  st=$(proc_starttime "${1%%:*}") || return 1
  [ "$st" = "${1#*:}" ]
}

# stop_group PIDFILE [GRACE_SECONDS]: SIGTERM the process group recorded in
# PIDFILE (and any descendant that left it), SIGKILL what is left after GRACE
# seconds, and wait until all of it is gone. Idempotent: a missing or stale
# PIDFILE is not an error.
stop_group() {
  local pidfile=$1 grace=${2:-3} pid i strays p alive
  if ! pid=$(recorded_pid "$pidfile"); then
    rm -f "$pidfile"
    return 0
  fi
  # collect before signalling: orphans are re-parented once the leader dies
  strays=$(descendants "$pid")
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 20; i++)); do
    group_alive "$pid" || break
    sleep 0.05
  done
  if group_alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
  # descendants that left the group (none seen so far, but be sure)
  for p in $strays; do
    if still_same "$p"; then kill -KILL "${p%%:*}" 2>/dev/null || true; fi
  done
  for ((i = 0; i < 100; i++)); do
    alive=0
    group_alive "$pid" && alive=1
    for p in $strays; do still_same "$p" && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.05
  done
  if [ "$alive" = 1 ]; then
    echo "$(basename "$0"): processes of group $pid survive SIGKILL" >&2
    return 1
  fi
  rm -f "$pidfile"
}

# wait_ready PGID TIMEOUT PATTERN HOST:PORT[:tls[:CAFILE]]...
# Waits until every listed port is listened on by a process of group PGID and
# the first one's greeting contains PATTERN. Exit codes: 0 ready, 2 a port is
# owned by another process (retry with new ports), 3 group died, 1 timeout.
wait_ready() {
  "$PYTHON" "$SERVERS_LIB_DIR/probe.py" ready "$@"
}

# env_line NAME VALUE: one shell-sourceable assignment.
env_line() {
  printf '%s=%q\n' "$1" "$2"
}

show_log() { # title file [lines]
  [ -f "$2" ] || return 0
  echo "----- $1 ($2), last ${3:-60} lines -----" >&2
  tail -n "${3:-60}" -- "$2" >&2
  echo "-----" >&2
}
