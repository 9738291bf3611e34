#!/usr/bin/env bash
# Install the library to a fresh prefix and build programs against it the
# ways users do: pkg-config (shared and static) and CMake's find_package.
# Usage: install_sdk.sh BUILD_DIR [extra CFLAGS for sanitizer builds]
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
build=$1
extra=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$prefix/lib
[ -d "$libdir/pkgconfig" ] || libdir=$(dirname "$(find "$prefix" -name libcyrus.pc | head -1)")/..
for f in include/cyrus/imclient.h include/cyrus/sasl.h include/cyrus/xmalloc.h; do
  [ -f "$prefix/$f" ] || { echo "missing $f"; exit 1; }
done
for f in libcyrus.so libcyrus.a pkgconfig/libcyrus.pc cmake/libcyrus/libcyrusConfig.cmake; do
  [ -e "$libdir/$f" ] || { echo "missing lib/$f"; exit 1; }
done
ls "$libdir"/libcyrus.so.1* >/dev/null

# Only the page's API and a few documented extensions are exported.
if nm -D --defined-only "$libdir/libcyrus.so" | awk '{sub(/@.*/, "", $3); print $3}' |
   grep -vE '^(imclient_|imapurl_|imparse_|x(malloc|zmalloc|calloc|realloc|strdup|strndup|memdup)$|fatal$|krb_sasl_client$|LIBCYRUS_)' ; then
  echo "unexpected exported symbols above"; exit 1
fi

cat > "$work/prog.c" <<'C'
#include <cyrus/imclient.h>
#include <cyrus/xmalloc.h>
int main(void)
{
    struct imclient *c;
    /* An empty label: refused before any lookup, so no DNS server is asked. */
    if (imclient_connect(&c, "bad_host..invalid", "imap") != -1) return 1;
    if (imclient_connect(&c, "127.0.0.1", "no-such-service-here") != -2) return 2;
    struct imclient_limits l;
    imclient_defaultlimits(&l);
    char *s = xstrdup("ok");
    printf("%s %d\n", s, l.max_line > 0);
    free(s);
    return 0;
}
C
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046,SC2086
cc -Wall -Werror $extra "$work/prog.c" -o "$work/prog" $(pkg-config --cflags --libs libcyrus)
LD_LIBRARY_PATH=$libdir "$work/prog" | grep -qx "ok 1"
ldd "$work/prog" | grep -q "libcyrus.so.1 => $libdir" || LD_LIBRARY_PATH=$libdir ldd "$work/prog" | grep -q "libcyrus.so.1 => $libdir"

# shellcheck disable=SC2046,SC2086
cc -Wall -Werror $extra "$work/prog.c" -o "$work/prog_static" $(pkg-config --cflags libcyrus) \
  "$libdir/libcyrus.a" $(pkg-config --libs-only-l --static libcyrus | sed 's/-lcyrus//')
"$work/prog_static" | grep -qx "ok 1"
if ldd "$work/prog_static" | grep -q libcyrus; then echo "static build uses the shared library"; exit 1; fi

mkdir -p "$work/cm"
cp "$work/prog.c" "$work/cm/prog.c"
cat > "$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(libcyrus REQUIRED)
add_executable(prog prog.c)
target_link_libraries(prog PRIVATE libcyrus::cyrus)
CM
cmake -S "$work/cm" -B "$work/cm/b" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$extra" \
  -DCMAKE_EXE_LINKER_FLAGS="$extra" >/dev/null
cmake --build "$work/cm/b" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/cm/b/prog" | grep -qx "ok 1"
echo "install_sdk: 1 passed, 0 failed"
