#!/usr/bin/env bash
# fetch-cyrus-source.sh [DIR]
#
# Puts Cyrus IMAP 3.6.1's upstream source (the .orig tarball of Debian
# bookworm's cyrus-imapd source package) in DIR, unpacked as
# DIR/cyrus-imapd-3.6.1, and prints that path. Default DIR: tests/perl/upstream
# (ignored by git: Cyrus's source is never committed).
#
# Nothing is downloaded when the tarball is already there. Otherwise, as root
# on Debian 12, it adds a deb-src entry for bookworm main (the URI taken from
# the machine's own Debian entry) if apt has none, and runs
# `apt-get source --download-only`, which checks the files against the signed
# Sources index; the tarball's hash is checked here too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/tests/perl/upstream}
version=3.6.1
tarball=cyrus-imapd_$version.orig.tar.gz
sha256=32d6926123667952d5df76831de7c4ed02f389f41ac0d9c88a2427f3343a8e79
tree=$dest/cyrus-imapd-$version
src_list=/etc/apt/sources.list.d/imc-bookworm-src.sources

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
note() { echo "$(basename "$0"): $*" >&2; }

# The URI of the machine's bookworm main entry, from a deb822 .sources file
# or a one-line sources.list; a fresh Debian 12 has the former.
debian_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && comps ~ /(^| )main( |$)/ && uri != "") {
          print uri; found = 1; exit
        }
        types = suites = comps = uri = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); split($0, u, /[ \t]+/); uri = u[1] }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
      END { if (!found) flush() }
    ' "$f"
  done | head -n1 | grep . && return 0
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++;
                       if ($(i + 1) == "bookworm") { print $i; exit } }' | grep .
}

has_bookworm_sources() {
  apt-get indextargets --format '$(CREATED_BY) $(RELEASE) $(COMPONENT)' 2>/dev/null |
    grep -q '^Sources bookworm main$'
}

ensure_deb_src() {
  local uri
  has_bookworm_sources && return 0
  [ "$(id -u)" = 0 ] || die "no deb-src entry for bookworm main, and adding one needs root"
  uri=$(debian_uri) || die "no Debian bookworm main entry in /etc/apt to take the URI from"
  note "adding $src_list (deb-src $uri bookworm main)"
  cat >"$src_list" <<EOF
# Added by libcyrus's scripts/fetch-cyrus-source.sh: Cyrus IMAP's source for
# the Perl binding's tests.
Types: deb-src
URIs: $uri
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -qq
}

fetch_into() {
  (cd "$1" && apt-get source --download-only -qq cyrus-imapd >/dev/null 2>"$1/apt.err")
}

download() {
  local work
  ensure_deb_src
  # apt's download user (_apt) must be able to write there.
  work=$(mktemp -d "$dest/.download.XXXXXX")
  chmod 0777 "$work"
  # Only the upstream tarball matters: a mirror missing the Debian patches
  # or the tarball's signature makes apt fail, but what it did fetch it
  # checked. An old Sources index (404 on everything) gets one update.
  fetch_into "$work" || [ -f "$work/$tarball" ] ||
    { apt-get update -qq; fetch_into "$work"; } || [ -f "$work/$tarball" ] ||
    { rm -rf "$work"; die "apt-get source cyrus-imapd did not fetch $tarball"; }
  mv "$work/$tarball" "$dest/$tarball"
  rm -rf "$work"
}

mkdir -p "$dest"
[ -f "$dest/$tarball" ] || download
echo "$sha256  $dest/$tarball" | sha256sum -c --quiet - >/dev/null 2>&1 ||
  die "$dest/$tarball does not have the expected SHA-256 $sha256"
if [ ! -f "$tree/perl/imap/IMAP.xs" ]; then
  rm -rf "$tree"
  tar -xzf "$dest/$tarball" -C "$dest"
fi
[ -f "$tree/perl/imap/IMAP.xs" ] || die "$tree/perl/imap/IMAP.xs missing after unpacking"
echo "$tree"
