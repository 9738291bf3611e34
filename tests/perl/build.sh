#!/usr/bin/env bash
# build.sh BUILD_DIR CYRUS_SRC WORK
#
# Installs the SDK from BUILD_DIR into WORK/prefix (as users get it from
# `cmake --install`), copies Cyrus's perl/imap from CYRUS_SRC into
# WORK/imap and builds it there with our Makefile.PL and the header shim.
# The compiler's output is kept in WORK/build.log; any warning is listed,
# and an implicit declaration fails the build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 3 ] || { echo "usage: $0 BUILD_DIR CYRUS_SRC WORK" >&2; exit 64; }
build=$1 src=$2 work=$3

rm -rf "$work/prefix" "$work/imap"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
pcdir=$(dirname "$(find "$work/prefix" -name libcyrus.pc | head -n1)")

mkdir -p "$work/imap"
for f in IMAP.xs IMAP.pm IMAP typemap cyrperl.h t; do
  cp -R "$src/perl/imap/$f" "$work/imap/"
done
cp "$here/Makefile.PL" "$here/shim/getpass.c" "$work/imap/"

cd "$work/imap"
export IMC_PERL_SHIM=$here/shim PKG_CONFIG_PATH=$pcdir
perl Makefile.PL >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
rc=0
make >>"$work/build.log" 2>&1 || rc=$?

warnings=$(grep -E 'warning:|error:' "$work/build.log" || true)
if [ -n "$warnings" ]; then
  echo "build.sh: the compiler said ($work/build.log):" >&2
  echo "$warnings" >&2
fi
if grep -q 'implicit declaration' "$work/build.log"; then
  echo "build.sh: implicit declarations (above): the shim or the 3.x header lacks them" >&2
  exit 1
fi
[ "$rc" = 0 ] || { tail -n 30 "$work/build.log" >&2; echo "build.sh: make failed" >&2; exit 1; }
so=blib/arch/auto/Cyrus/IMAP/IMAP.so
[ -f "$so" ] || { echo "build.sh: no IMAP.so built" >&2; exit 1; }

# Perl resolves the module's symbols only when a test calls them; name
# every library function the binding needs and libcyrus does not export.
lib=$(find "$work/prefix" -name libcyrus.so | head -n1)
missing=$(comm -23 \
  <(nm -D --undefined-only "$so" | awk '{print $2}' | sed 's/@.*//' |
    grep -E '^(imclient_|imapurl_|x(malloc|zmalloc|realloc|strdup|strndup)$)' | sort -u) \
  <(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u))
if [ -n "$missing" ]; then
  echo "build.sh: IMAP.so calls what libcyrus does not export:" $missing >&2
  exit 1
fi
echo "build.sh: built $work/imap/blib"
