#!/usr/bin/env bash
# Installs everything, builds the library twice (optimised with -Werror, and
# with AddressSanitizer + UndefinedBehaviorSanitizer under clang), starts
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
