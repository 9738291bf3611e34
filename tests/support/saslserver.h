/*
 * libsasl2's server side, for tests that need a real peer for a mechanism
 * that negotiates a security layer (DIGEST-MD5): a throwaway sasldb in
 * /tmp, removed at exit, holding the accounts user0 ... user63 for the
 * service "imap" and the realm 127.0.0.1, all with the password
 * SASLSERVER_PASSWORD.
 *
 * The program that links this also gets LeakSanitizer told about the
 * DIGEST-MD5 plugin's ciphers (see saslserver.c).
 */
#ifndef IMC_SASLSERVER_H
#define IMC_SASLSERVER_H

#include <sasl/sasl.h>

#define SASLSERVER_USERS 64
#define SASLSERVER_PASSWORD "alicepw"

/* Set up once per process, from any thread: 0, or -1 if libsasl2's
 * server side or the sasldb could not be made. */
int saslserver_ready(void);

/*
 * libsasl2's DIGEST-MD5 client keeps, process-wide, the last nonce per
 * server and user and reuses it (RFC 2831 subsequent authentication),
 * with the layer of that earlier session.  A test that wants a full
 * exchange takes a user of its own: each call returns the next account,
 * round the 64 of them.  Not thread-safe.
 */
const char *saslserver_fresh_user(void);

/* A server connection for "imap" at 127.0.0.1 that offers layers up to
 * max_ssf and takes packets up to 64 KiB; NULL if it cannot be made. */
sasl_conn_t *saslserver_conn(unsigned max_ssf);

#endif
