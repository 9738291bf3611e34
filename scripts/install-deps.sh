#!/usr/bin/env bash
# Installs everything the build, the demo and the test suite need on Debian 12.
# Idempotent: packages already present are left alone. Must run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config python3
  libssl-dev libsasl2-dev libidn2-dev libunistring-dev libc-ares-dev zlib1g-dev
  libevent-dev libuv1-dev libedit-dev mandoc libperl-dev
  clang-14 libclang-rt-14-dev
  openssl ca-certificates locales
  dovecot-imapd dovecot-gssapi
  cyrus-common cyrus-clients sasl2-bin libsasl2-modules libsasl2-modules-gssapi-mit libetpan-dev
  krb5-kdc krb5-admin-server krb5-user
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# cyrus-imapd (imapd, idled) conflicts with dovecot-imapd, so it is unpacked
# into a private folder instead of installed; the Cyrus test script runs it from there.
cyrus_root=${CYRUS_IMAPD_ROOT:-/opt/cyrus-imapd}
if [ ! -x "$cyrus_root/usr/lib/cyrus/bin/imapd" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download cyrus-imapd >/dev/null 2>&1) || { apt-get update -qq && (cd "$tmp" && apt-get download cyrus-imapd >/dev/null); }
  mkdir -p "$cyrus_root"
  dpkg-deb -x "$tmp"/cyrus-imapd_*.deb "$cyrus_root"
  rm -rf "$tmp"
fi

# A Turkish locale, where 'i' and 'I' are not case pairs: the tests use it to
# prove keyword matching follows IMAP's ASCII rules, not the locale's.
if ! locale -a 2>/dev/null | grep -qi '^tr_TR.utf8$'; then
  localedef -i tr_TR -f UTF-8 tr_TR.UTF-8
fi
