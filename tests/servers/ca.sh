#!/usr/bin/env bash
# ca.sh DIR — a throwaway CA plus certificates for the test servers, in DIR:
#   ca.pem / ca.key          the CA (trust ca.pem in clients)
#   server.pem / server.key  CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   client.pem / client.key  CN=alice, for TLS client-certificate tests
# EC P-256 keys (fast). Idempotent: does nothing when all six files exist.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 64; }
command -v openssl >/dev/null || die "openssl not found"

dir=$(abs_dir "$1")
files=(ca.pem ca.key server.pem server.key client.pem client.key)
all=1
for f in "${files[@]}"; do [ -s "$dir/$f" ] || all=0; done
[ "$all" = 1 ] && exit 0

# Build in a scratch folder and move into place only when everything worked,
# so an interrupted run never leaves a half-made set that looks complete.
tmp=$(mktemp -d "$dir/.ca.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
cd "$tmp"

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { printf '0x%s' "$(openssl rand -hex 8)"; }

# Our own minimal config, so the system openssl.cnf plays no part.
# A distinct CA name per run: two CAs never look like issuers of each
# other's certificates.
cat >req.cnf <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
O = imclient tests
CN = imclient throwaway test CA $(openssl rand -hex 4)
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

newkey ca.key
openssl req -new -x509 -config req.cnf -key ca.key -out ca.pem -days 3650 -sha256 \
  -set_serial "$(serial)"

sign() { # name subject extfile
  newkey "$1.key"
  openssl req -new -config req.cnf -key "$1.key" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "$(serial)" \
    -days 3650 -sha256 -extfile "$3" -out "$1.pem" 2>/dev/null
}

cat >server.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
EOF
sign server "/O=imclient tests/CN=localhost" server.ext

cat >client.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = email:alice@localhost
authorityKeyIdentifier = keyid
EOF
sign client "/O=imclient tests/CN=alice" client.ext

openssl verify -CAfile ca.pem server.pem client.pem >/dev/null ||
  die "generated certificates do not verify"

chmod 0600 ca.key
chmod 0644 ca.pem server.pem client.pem client.key
# The server key is read by unprivileged server processes (Cyrus runs as
# cyrus:mail), so group mail may read it.
chmod 0640 server.key
chgrp mail server.key 2>/dev/null || true
for f in "${files[@]}"; do mv -f "$f" "$dir/$f"; done
chmod 0755 "$dir"
