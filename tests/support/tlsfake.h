/*
 * A scripted IMAP server on 127.0.0.1 that can switch to TLS at a step:
 * like fakeserver.h, it accepts one connection and plays its steps on a
 * thread, recording every byte the client sends (decrypted, once TLS is
 * on).  Steps after T_TLS() go through TLS.
 *
 * tlsfake_certs_make() writes a throwaway CA and the server certificates
 * the TLS tests need, made with the OpenSSL API so that no openssl command
 * line or its version matters.
 */
#ifndef IMC_TLSFAKE_H
#define IMC_TLSFAKE_H

#include <stddef.h>

enum tlsfake_op {
    TF_SEND,     /* write data (ms: TF_CLIENT_MAY_CLOSE or 0) */
    TF_SLOW,     /* write data one byte per write */
    TF_EXPECT,   /* read exactly len bytes; they must equal data */
    TF_SLEEP,    /* pause ms milliseconds */
    TF_CLOSE,    /* close (after close_notify when TLS is on) */
    TF_CUT,      /* close at once, without close_notify */
    TF_DRAIN,    /* read until the client closes (at most ms, default 5 s) */
    TF_TLS,      /* server side of the handshake; it must succeed */
    TF_TLS_MAYFAIL, /* handshake that the client may abort; ends the script if so */
};

struct tlsfake_step {
    enum tlsfake_op op;
    const char *data;
    size_t len;
    int ms;
};

#define T_SEND(s) { TF_SEND, (s), sizeof(s) - 1, 0 }
#define T_SLOW(s) { TF_SLOW, (s), sizeof(s) - 1, 0 }
#define T_EXPECT(s) { TF_EXPECT, (s), sizeof(s) - 1, 0 }
/* Sent while the client is expected to hang up: a failed write ends the
 * script instead of failing it. */
#define TF_CLIENT_MAY_CLOSE 1
#define T_SEND_UNTIL_CLOSED(s) { TF_SEND, (s), sizeof(s) - 1, TF_CLIENT_MAY_CLOSE }
#define T_SLOW_UNTIL_CLOSED(s) { TF_SLOW, (s), sizeof(s) - 1, TF_CLIENT_MAY_CLOSE }
#define T_SEND_BUF(p, n) { TF_SEND, (p), (n), 0 }
#define T_EXPECT_BUF(p, n) { TF_EXPECT, (p), (n), 0 }
#define T_SLEEP(ms) { TF_SLEEP, NULL, 0, (ms) }
#define T_CLOSE() { TF_CLOSE, NULL, 0, 0 }
#define T_CUT() { TF_CUT, NULL, 0, 0 }
#define T_DRAIN() { TF_DRAIN, NULL, 0, 0 }
#define T_TLS() { TF_TLS, NULL, 0, 0 }
#define T_TLS_MAYFAIL() { TF_TLS_MAYFAIL, NULL, 0, 0 }

struct tlsfake_config {
    const char *cert_file; /* server chain (PEM) */
    const char *key_file;
    const char *client_ca; /* when set: ask for a client certificate and
                              require one that this CA signed */
    int max_version;       /* 0, or e.g. TLS1_1_VERSION to offer no more */
};

struct tlsfake;

struct tlsfake *tlsfake_start(const struct tlsfake_config *cfg,
                              const struct tlsfake_step *steps, size_t n);
const char *tlsfake_port(const struct tlsfake *fs);
/* Wait for the script to end: 0 when every step ran and matched, else -1
 * with the reason in err.  A TF_TLS_MAYFAIL handshake that failed is not an
 * error (see tlsfake_handshake_error). */
int tlsfake_wait(struct tlsfake *fs, char *err, size_t errlen);
/* Every byte the client sent: plaintext, then decrypted TLS data. */
const char *tlsfake_received(const struct tlsfake *fs, size_t *len);
/* Where in received() TLS data begins; (size_t)-1 when TLS never started. */
size_t tlsfake_tls_offset(const struct tlsfake *fs);
/* After wait(): the server name the client sent (SNI), or NULL. */
const char *tlsfake_sni(const struct tlsfake *fs);
/* After wait(): the CN of the client's certificate, or NULL. */
const char *tlsfake_peer_cn(const struct tlsfake *fs);
/* After wait(): "" when no handshake failed, else OpenSSL's reason. */
const char *tlsfake_handshake_error(const struct tlsfake *fs);
void tlsfake_free(struct tlsfake *fs);

#define TLSFAKE(...) ((const struct tlsfake_step[]){ __VA_ARGS__ }), \
    (sizeof((const struct tlsfake_step[]){ __VA_ARGS__ }) / sizeof(struct tlsfake_step))

/*
 * Certificates in dir (created with mkdtemp by the caller), all EC P-256:
 *   ca.pem            the CA the tests trust
 *   other-ca.pem      a CA the tests do not trust
 *   leaf.key          the key of every server certificate below
 *   good.pem          SAN DNS:localhost, signed by ca
 *   ip.pem            SAN IP:127.0.0.1 only
 *   both.pem          SAN DNS:localhost, IP:127.0.0.1
 *   expired.pem       SAN DNS:localhost, expired yesterday
 *   future.pem        SAN DNS:localhost, valid from tomorrow
 *   self.pem          SAN DNS:localhost, self-signed
 *   cnonly.pem        CN=localhost, no subjectAltName
 *   cnonly-ip.pem     CN=127.0.0.1, no subjectAltName
 *   untrusted.pem     SAN DNS:localhost, signed by other-ca
 *   wrong.pem         SAN DNS:mail.example.org
 *   wild.pem          SAN DNS:*.example.org
 *   partial.pem       SAN DNS:m*.example.org
 *   idn.pem           SAN DNS:xn--bcher-kva.example (bücher.example)
 *   chain.pem         good.pem followed by ca.pem (a server sending its chain)
 *   client.pem        CN=alice, clientAuth, signed by ca; key in client.key
 *   client-all.pem    client.pem and its key in one file
 * Returns 0, or -1 with a reason on stderr.
 */
int tlsfake_certs_make(const char *dir);
/* Remove those files and dir itself. */
void tlsfake_certs_remove(const char *dir);

#endif
