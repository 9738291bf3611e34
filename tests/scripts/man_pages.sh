#!/usr/bin/env bash
# The man pages under man/man3 against the public headers and the install:
#  - every page is clean under `mandoc -T lint -W warning`;
#  - every function the public headers declare has a page (its own file, or
#    a symlink to its family's page) naming it in NAME, whose SYNOPSIS
#    declares it exactly as the header does;
#  - every .Xr reference is a page we ship or a system page listed below;
#  - `cmake --install` puts every page and link under share/man/man3.
# Usage: man_pages.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1
build=$2
man=$src/man/man3
fail=0
problem() { echo "man_pages: $*" >&2; fail=1; }

# System pages the SEE ALSO sections may name besides our own.
system_pages="select.2 poll.2 epoll.7 errno.3 printf.3 malloc.3 free.3 strlen.3 getaddrinfo.3 getpass.3 pthreads.7 sasl.3"

[ -d "$man" ] || { echo "man_pages: no $man" >&2; exit 1; }
shopt -s nullglob
pages=("$man"/*.3)
[ ${#pages[@]} -gt 0 ] || { echo "man_pages: no pages in $man" >&2; exit 1; }

for p in "${pages[@]}"; do
  name=$(basename "$p")
  if [ -L "$p" ]; then
    target=$(readlink "$p")
    case $target in */*) problem "$name: link target $target is not in man3" ;; esac
    [ -f "$man/$target" ] && [ ! -L "$man/$target" ] ||
      problem "$name: link to $target, which is not a page"
    continue
  fi
  # mandoc resolves nothing relative to the page, so run it from man/.
  out=$(cd "$src/man" && mandoc -T lint -W warning "man3/$name" 2>&1)
  [ $? -eq 0 ] && [ -z "$out" ] || problem "$name is not lint-clean:"$'\n'"$out"
  for ref in $(awk '$1 == ".Xr" { print $2 "." $3 }' "$p"); do
    [ -e "$man/$ref" ] && continue
    case " $system_pages " in *" $ref "*) continue ;; esac
    problem "$name: .Xr ${ref%.*} ${ref##*.}: no such page shipped or known"
  done
done

# Declarations as "name<TAB>declaration" lines, spelled one way: no
# static/inline, single spaces, "*" against the name, none around ( ) ,.
normalize() {
  perl -pe 'if (s/^([^\t]*\t)//) { my $k = $1; s/\b(?:static|inline)\s+//g; s/\s+/ /g;
    s/\s*(\*+)\s*/ $1/g; s/\s*([(),])\s*/$1/g; s/^\s+|\s+$//g; $_ = "$k$_\n" }'
}

# Every public function: its declaration from the headers, then the page.
# Names with "__" are the header-only adapters' private helpers.
declarations=$(perl - "$src"/include/cyrus/*.h "$src"/include/cyrus/adapters/*.h <<'PERL'
use strict; use warnings;
for my $file (@ARGV) {
    open my $fh, '<', $file or die "$file: $!";
    local $/; my $t = <$fh>;
    $t =~ s{/\*.*?\*/}{ }gs;
    $t =~ s{//[^\n]*}{}g;
    $t =~ s{^[ \t]*#[ \t]*ifdef[ \t]+__cplusplus\b.*?^[ \t]*#[ \t]*endif[^\n]*}{}gms;
    $t =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}gm;
    my ($depth, $head, $body_of_function) = (0, '', 0);
    my @heads;
    for my $c (split //, $t) {
        if ($depth == 0) {
            if ($c eq '{') { $depth = 1; $body_of_function = $head =~ /\(/; }
            elsif ($c eq ';') { push @heads, $head; $head = ''; }
            else { $head .= $c; }
        } elsif ($c eq '{') { $depth++; }
        elsif ($c eq '}' && --$depth == 0 && $body_of_function) {
            push @heads, $head; $head = ''; $body_of_function = 0;
        }
    }
    for my $h (@heads) {
        $h =~ s/^\s+|\s+$//g;
        next if $h =~ /^typedef\b/;
        next unless $h =~ /^([^()]*?)\b([A-Za-z_]\w*)\s*\((.*)\)$/s;
        my $name = $2;
        next if $name =~ /__/;
        $h =~ s/\s+/ /g;
        print "$name\t$h\n";
    }
}
PERL
) || { echo "man_pages: reading the headers failed" >&2; exit 1; }
declarations=$(normalize <<<"$declarations")
[ -n "$declarations" ] || { echo "man_pages: no functions found in the headers" >&2; exit 1; }

# The declarations a page's SYNOPSIS makes (.Ft then .Fn, or .Fo/.Fa/.Fc),
# normalized, and the names its NAME section lists.
page_synopsis() {
  perl -ne '
    sub args { my $s = shift; my @a; push @a, defined $1 ? $1 : $2 while $s =~ /\G\s*(?:"([^"]*)"|(\S+))/g; @a }
    $sec = $1 if /^\.Sh\s+(.*)/;
    if ($sec eq "NAME" && /^\.Nm\s+(\S+)/) { my $n = $1; $n =~ s/,$//; print "NAME $n\n"; }
    next unless $sec eq "SYNOPSIS";
    if (/^\.Ft\s+(.*)/) { $ft = join " ", args($1); }
    elsif (/^\.Fn\s+(.*)/) { my ($n, @a) = args($1); print "DECL $n\t$ft $n(", join(", ", @a), ")\n"; }
    elsif (/^\.Fo\s+(\S+)/) { $fo = $1; @fa = (); }
    elsif (/^\.Fa\s+(.*)/ && defined $fo) { push @fa, join " ", args($1); }
    elsif (/^\.Fc/ && defined $fo) { print "DECL $fo\t$ft $fo(", join(", ", @fa), ")\n"; undef $fo; }
  ' "$1" | normalize
}

while IFS=$'\t' read -r fn decl; do
  page=$man/$fn.3
  if [ ! -e "$page" ]; then problem "$fn: no page $fn.3"; continue; fi
  info=$(page_synopsis "$(readlink -f "$page")")
  grep -qx "NAME $fn" <<<"$info" || problem "$fn.3: NAME does not list $fn"
  grep -qxF "DECL $fn	$decl" <<<"$info" ||
    problem "$fn.3: SYNOPSIS does not declare it as the header does: $decl"$'\n'"  page has: $(grep "^DECL $fn	" <<<"$info" | cut -f2)"
done <<<"$declarations"

# Installed where man(1) looks, links as links.
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
if cmake --install "$build" --prefix "$prefix" >/dev/null; then
  for p in "${pages[@]}"; do
    name=$(basename "$p")
    got=$prefix/share/man/man3/$name
    if [ -L "$p" ]; then
      [ -L "$got" ] && [ "$(readlink "$got")" = "$(readlink "$p")" ] || problem "$name: not installed as a link"
    else
      cmp -s "$p" "$got" || problem "$name: not installed under share/man/man3"
    fi
  done
else
  problem "cmake --install failed"
fi

[ $fail -eq 0 ] && echo "man_pages: ${#pages[@]} pages, $(wc -l <<<"$declarations") functions: ok"
exit $fail
