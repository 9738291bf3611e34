#!/bin/sh
# Run the same scripted IMAP exchanges through Debian's Cyrus 3.6.1 imclient
# (libcyrus.so.0, package cyrus-common) and through ours, side by side.
# Run by hand (not part of ctest): the Cyrus side hangs in some scenarios by
# design; each client runs under `timeout 5`.
#
#   tests/compare/run.sh [SCENARIO...]     (from anywhere)
#   BUILD=dir       build directory for our library (default: build-compare)
#   OURS_SRC=HEAD   build ours from a snapshot of the committed HEAD (default),
#                   so others' unfinished edits in the working tree don't
#                   break or change the comparison; OURS_SRC=worktree builds
#                   the working tree as it is.
#   OURS_SANITIZE=1 build ours and its client with ASan+UBSan; a report then
#                   appears in the "client events" column.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-$top/build-compare}
cyrus_lib=/usr/lib/x86_64-linux-gnu/libcyrus.so.0
cyrus_min=/usr/lib/x86_64-linux-gnu/libcyrus_min.so.0

if [ ! -e "$cyrus_lib" ] || [ ! -e "$cyrus_min" ]; then
    echo "run.sh: $cyrus_lib not found (install cyrus-common); nothing compared"
    exit 0
fi

mkdir -p "$build"
if [ "${OURS_SRC:-HEAD}" = worktree ]; then
    src=$top
    what="working tree of $top"
else
    src=$build/src
    rm -rf "$src"
    mkdir -p "$src"
    git -C "$top" archive HEAD | tar -x -C "$src"
    what="commit $(git -C "$top" rev-parse --short HEAD)"
fi
lib=$build/lib
san=
if [ "${OURS_SANITIZE:-0}" = 1 ]; then
    lib=$build/lib-asan
    san="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi
cmake -S "$src" -B "$lib" -DIMC_TESTS=OFF \
    -DIMC_SANITIZE=$([ -n "$san" ] && echo ON || echo OFF) >/dev/null
cmake --build "$lib" --target cyrus -j2 >/dev/null

out=$build/compare
mkdir -p "$out"
cflags="-std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror"
# Cyrus's build: its libcyrus.so.0 leaves buf_*/config_* to libcyrus_min.so.0
# and fatal() to us (defined in compare.c).
cc $cflags -DUSE_CYRUS -o "$out/compare-cyrus" "$here/compare.c" "$cyrus_lib" "$cyrus_min"
cc $cflags $san -I"$src/include" -o "$out/compare-ours" "$here/compare.c" \
    "$lib/libcyrus.so" -Wl,-rpath,"$lib"

echo "ours: $what"
echo "cyrus: $(dpkg-query -W -f='${Package} ${Version}' cyrus-common 2>/dev/null || echo "$cyrus_lib")"
python3 "$here/driver.py" "$out/compare-cyrus" "$out/compare-ours" "$@" || true
exit 0
