#!/usr/bin/env bash
# Cyrus 3.x programs against the INSTALLED SDK: cyrus3_program.c builds
# unchanged with -Wall -Wextra -Werror -Wimplicit-function-declaration, and
# a page-API object (mixed_page.c) links with a 3.x object
# (mixed_cyrus3.c) into one program that runs.  With the servers'
# variables in the environment the installed build of cyrus3_program also
# runs against them (it skips without, unless IMC_REQUIRE_SERVERS=1).
# Usage: build_check.sh BUILD_DIR SOURCE_DIR(tests/compat) [sanitizer CFLAGS]
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
build=$1
here=$2
extra=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
[ -f "$prefix/include/cyrus/imclient_cyrus3.h" ] || { echo "imclient_cyrus3.h not installed"; exit 1; }
libdir=$(dirname "$(find "$prefix" -name libcyrus.pc | head -1)")/..
export PKG_CONFIG_PATH=$libdir/pkgconfig
cflags="-std=c11 -Wall -Wextra -Werror -Wimplicit-function-declaration"
# The sanitizers' word on libsasl2 plugins' own leaks, as for tests/real.
leaks=()
[ -z "$extra" ] || leaks=("$here/../real/sasl_plugin_leaks.c")

# shellcheck disable=SC2046,SC2086
cc $cflags $extra "$here/cyrus3_program.c" "${leaks[@]}" -o "$work/cyrus3_program" \
  $(pkg-config --cflags --libs libcyrus) -lsasl2

# shellcheck disable=SC2046,SC2086
cc $cflags $extra -c "$here/mixed_page.c" -o "$work/page.o" $(pkg-config --cflags libcyrus)
# shellcheck disable=SC2046,SC2086
cc $cflags $extra -c "$here/mixed_cyrus3.c" -o "$work/cyrus3.o" $(pkg-config --cflags libcyrus)
# shellcheck disable=SC2046,SC2086
cc $extra "$work/page.o" "$work/cyrus3.o" -o "$work/mixed" $(pkg-config --libs libcyrus)
for sym in imclient_connect imclient_connect_cyrus3 imclient_authenticate \
           imclient_authenticate_cyrus3; do
  nm -u "$work/mixed" | grep -qE " $sym(@|\$)" || { echo "mixed program lacks $sym"; exit 1; }
done
LD_LIBRARY_PATH=$libdir "$work/mixed" | grep -qx "mixed: ok"

LD_LIBRARY_PATH=$libdir "$work/cyrus3_program"
echo "build_check: 1 passed, 0 failed"
