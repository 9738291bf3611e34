#!/usr/bin/env bash
# Installs everything, builds the library twice (optimised with -Werror, and
# with AddressSanitizer + UndefinedBehaviorSanitizer under clang), fuzzes the
# protocol session briefly, starts
# throwaway Dovecot, Cyrus and Kerberos servers on 127.0.0.1, and runs the
# whole test suite against both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DIMC_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DIMC_WERROR=ON -DIMC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang-14 >/dev/null
cmake --build build-asan -j"$jobs"

# A short libFuzzer run of the protocol session (the seed corpus plus 30 s of
# mutation); a crash or a broken invariant fails the run.
cmake -S . -B build-fuzz -DIMC_FUZZ=ON -DIMC_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang-14 >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_session
fuzzwork=$(mktemp -d)
echo "== fuzz: fuzz_session, 30 s"
./build-fuzz/fuzz/fuzz_session -max_total_time=30 -print_final_stats=0 "$fuzzwork" \
  fuzz/corpus/session 2>&1 | tail -1
rm -rf "$fuzzwork"

# The reply parser and IMAP URLs get 20 s each: every helper on every input,
# and parse-build-parse round trips that must give the same bytes.  So do
# the encoder (arguments sent to a scripted server must read back byte for
# byte) and AUTHENTICATE against hostile server bytes (its result reported
# exactly once).
for target in fuzz_imparse fuzz_imapurl fuzz_encoder fuzz_sasl; do
  cmake --build build-fuzz -j"$jobs" --target "$target"
  fuzzwork=$(mktemp -d)
  echo "== fuzz: $target, 20 s"
  "./build-fuzz/fuzz/$target" -max_total_time=20 -print_final_stats=0 "$fuzzwork" \
    "fuzz/corpus/${target#fuzz_}" 2>&1 | tail -1
  rm -rf "$fuzzwork"
done

# The servers' users (uid 65534, cyrus) must reach the folder.
servers=$(mktemp -d /tmp/imc-servers.XXXXXX)
chmod 755 "$servers"
trap 'bash "$root/tests/servers/all.sh" stop "$servers" >/dev/null 2>&1 || true; rm -rf "$servers"' EXIT
bash tests/servers/all.sh start "$servers"
set -a
# shellcheck disable=SC1091
. "$servers/env"
set +a
export IMC_REQUIRE_SERVERS=1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
for dir in build build-asan; do
  echo "== tests: $dir"
  (cd "$dir" && ctest --output-on-failure --timeout 600) || status=1
done
exit $status
