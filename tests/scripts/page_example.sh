#!/usr/bin/env bash
# The imclient(3) page's example program: it must build against an installed
# SDK with only its server and port strings changed, warning-free under
# -Wall but for its own pre-C99 `main()`, and run against the test Dovecot,
# authenticating with Kerberos, to print the server's capabilities.
# Usage: page_example.sh BUILD_DIR SOURCE_DIR [extra CFLAGS]
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
build=$1 src=$2 extra=${3:-}
if [ -z "${IMC_DOVECOT_PORT:-}" ]; then
  [ "${IMC_REQUIRE_SERVERS:-0}" = 1 ] && { echo "page_example: no Dovecot in the environment"; exit 1; }
  echo "page_example: skipped: no servers"; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig

sed -e 's/^char server\[\] = .*/char server[] = "localhost" ;/' \
    -e "s/^char port\[\] = .*/char port[] = \"$IMC_DOVECOT_PORT\";/" \
    "$src/examples/imclient_page_example.c" > "$work/example.c"
# Exactly two lines differ from the page's text.
[ "$(diff "$src/examples/imclient_page_example.c" "$work/example.c" | grep -c '^>')" = 2 ]

# shellcheck disable=SC2046,SC2086
cc -Wall $extra "$work/example.c" -o "$work/example" $(pkg-config --cflags --libs libcyrus) 2> "$work/warnings"
if grep 'warning:' "$work/warnings" | grep -v 'Wimplicit-int'; then
  echo "page_example: unexpected warnings"; cat "$work/warnings"; exit 1
fi

out=$(LD_LIBRARY_PATH=$work/prefix/lib timeout 60 "$work/example")
echo "$out"
grep -q '^capability text is: IMAP4rev1 ' <<<"$out"
# Only an authenticated session (Kerberos, via the example's krb_sasl_client)
# lists no AUTH= mechanisms any more.
if grep -q 'AUTH=' <<<"$out"; then echo "page_example: not authenticated"; exit 1; fi
echo "page_example: 1 passed, 0 failed"
