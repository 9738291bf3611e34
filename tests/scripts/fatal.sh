#!/usr/bin/env bash
# fatal(): a program may define it (with either signature in use) and the
# library calls it; a program that does not define it still links and gets
# the library's default.  Checked with the shared and the static library.
# Usage: fatal.sh BUILD_DIR SOURCE_DIR [extra CFLAGS]
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
build=$1 src=$2 extra=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Sanitizers would stop the huge allocation themselves.
export ASAN_OPTIONS=allocator_may_return_null=1

cat > "$work/own.c" <<'C'
#include <stdint.h>
#include <cyrus/xmalloc.h>
#include <cyrus/imclient.h>
void fatal(char *message, int rc)
{
    printf("own fatal: %s (%d)\n", message, rc);
    exit(9);
}
int main(void)
{
    xmalloc(SIZE_MAX / 2);
    return 0;
}
C
sed -e '/^void fatal/,/^}/d' "$work/own.c" > "$work/none.c"

passed=0
check() { # name expected-exit expected-output-pattern command...
  local name=$1 want=$2 pattern=$3; shift 3
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  if [ "$rc" != "$want" ] || ! grep -q "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $rc, output: $out"; exit 1
  fi
  passed=$((passed + 1))
}
inc=(-I"$src/include")
# shellcheck disable=SC2086
for kind in shared static; do
  if [ $kind = shared ]; then lib=(-L"$build" -lcyrus -Wl,-rpath,"$build"); else lib=("$build/libcyrus.a" -lssl -lcrypto -lsasl2 -lz -lpthread); fi
  cc -Wall -Werror $extra "${inc[@]}" "$work/own.c" -o "$work/own_$kind" "${lib[@]}"
  cc -Wall -Werror $extra "${inc[@]}" "$work/none.c" -o "$work/none_$kind" "${lib[@]}"
  check "own fatal ($kind)" 9 "own fatal: Virtual memory exhausted (75)" "$work/own_$kind"
  check "default fatal ($kind)" 75 "fatal error: Virtual memory exhausted" "$work/none_$kind"
done
echo "fatal: $passed passed, 0 failed"
