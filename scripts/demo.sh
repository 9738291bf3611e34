#!/usr/bin/env bash
# Installs what is needed, builds the library and its demo, starts a
# throwaway Dovecot on 127.0.0.1, runs the demo against it with a readable
# transcript, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
cmake -S . -B build -DIMC_WERROR=ON >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target demo

servers=$(mktemp -d /tmp/imc-demo.XXXXXX)
chmod 755 "$servers"
trap 'bash "$root/tests/servers/dovecot.sh" stop "$servers/dovecot" >/dev/null 2>&1 || true; rm -rf "$servers"' EXIT
bash tests/servers/dovecot.sh start "$servers/dovecot" >/dev/null
set -a
# shellcheck disable=SC1091
. "$servers/dovecot/env"
set +a

./build/examples/demo localhost "$IMC_DOVECOT_PORT" "$IMC_DOVECOT_USER" "$IMC_DOVECOT_PASS" "$IMC_CA_FILE"
