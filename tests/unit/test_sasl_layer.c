/*
 * The SASL security layer as a transport (transport/sasl_layer.c), over the
 * mock lower layer (mocktransport.h): a client and a server connection
 * complete DIGEST-MD5 in memory with libsasl2's own server side
 * (saslserver.h), the client's goes into the layer, and the server's
 * encodes what the layer must read and decodes what it wrote.  Partial
 * writes and split reads, bytes handed back after the OK, packets that do
 * not decode and the reason given for them.
 */
#include <errno.h>
#include <sasl/sasl.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "authapp.h"
#include "check.h"
#include "mocktransport.h"
#include "saslserver.h"
#include "transport/sasl_layer.h"
#include "util/buf.h"

/* Client and server conns that completed DIGEST-MD5 in memory. */
static int digest_pair(unsigned min_ssf, unsigned max_ssf, sasl_conn_t **cp, sasl_conn_t **sp,
                       void **keep)
{
    static struct imclient fake; /* only read by the secret callbacks */
    static struct auth_secrets sec = { NULL, NULL, SASLSERVER_PASSWORD, NULL, "" };
    char err[200];
    if (imc_sasl_init(err, sizeof err) < 0 || saslserver_ready() < 0)
        return -1;
    fake.secretproc = auth_secret;
    fake.secretrock = &sec;
    sec.authname = saslserver_fresh_user();
    struct imc_secrets *secrets = imc_secrets_new(&fake, "DIGEST-MD5", NULL);
    sasl_conn_t *c = NULL, *s = saslserver_conn(256);
    if (!s || sasl_client_new("imap", "127.0.0.1", NULL, NULL, secrets->list, 0, &c) != SASL_OK)
        return -1;
    sasl_security_properties_t props;
    memset(&props, 0, sizeof props);
    props.min_ssf = min_ssf;
    props.max_ssf = max_ssf;
    props.maxbufsize = IMC_SASL_MAXBUF;
    sasl_setprop(c, SASL_SEC_PROPS, &props);
    sasl_interact_t *in = NULL;
    const char *out, *sout, *mech;
    unsigned outlen, soutlen;
    int rc = sasl_client_start(c, "DIGEST-MD5", &in, &out, &outlen, &mech);
    int sr = sasl_server_start(s, "DIGEST-MD5", out, outlen, &sout, &soutlen);
    for (int i = 0; i < 5 && sr == SASL_CONTINUE; i++) {
        rc = sasl_client_step(c, sout, soutlen, &in, &out, &outlen);
        if (rc != SASL_OK && rc != SASL_CONTINUE)
            return -1;
        sr = sasl_server_step(s, out, outlen, &sout, &soutlen);
    }
    if (sr != SASL_OK || rc != SASL_OK)
        return -1;
    imc_secrets_retire(secrets);
    *cp = c;
    *sp = s;
    *keep = secrets;
    return 0;
}

/* Plaintext counts as written only when all its encoded bytes are below:
 * after every successful write, what the mock holds decodes to exactly
 * the bytes reported. */
static void layer_partial_writes(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    struct mock_transport m;
    mock_transport_init(&m);
    m.write_piece = 7;
    m.write_eagain_every = 3;
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    size_t total = 200000;
    char *plain = malloc(total);
    for (size_t i = 0; i < total; i++)
        plain[i] = (char)(i * 7 + 3);
    size_t sent = 0, decoded_from = 0;
    struct imc_buf decoded;
    imc_buf_init(&decoded);
    int writes = 0, eagains = 0;
    for (int guard = 0; sent < total && guard < 1000000; guard++) {
        ssize_t n = imc_transport_write(t, plain + sent, total - sent);
        if (n < 0) {
            CHECK_INT(errno, EAGAIN);
            eagains++;
            CHECK(imc_transport_wants(t) & IMC_WANT_WRITE);
            continue;
        }
        CHECK(n > 0);
        CHECK((size_t)n <= 65536);
        sent += (size_t)n;
        writes++;
        const char *out;
        unsigned outlen;
        CHECK(sasl_decode(sc, m.written.data + decoded_from,
                          (unsigned)(m.written.len - decoded_from), &out, &outlen) == SASL_OK);
        decoded_from = m.written.len;
        imc_buf_append(&decoded, out, outlen);
        CHECK_INT(decoded.len, sent);
        CHECK_INT(imc_transport_wants(t) & IMC_WANT_WRITE, 0);
    }
    CHECK_INT(sent, total);
    CHECK(writes >= 4 && eagains > 0);
    CHECK(memcmp(decoded.data, plain, total) == 0);
    imc_transport_destroy(t);
    CHECK(m.destroyed);
    sasl_dispose(&sc);
    imc_buf_free(&decoded);
    mock_transport_free(&m);
    free(plain);
}

/* Encoded input split into 3-byte reads with EAGAIN between them comes
 * out whole; buffered() counts what is decoded but unread. */
static void layer_split_reads(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    const char *msgs[] = { "* 1 EXISTS\r\n", "* 2 EXPUNGE\r\n", "3 OK done\r\n" };
    struct imc_buf enc;
    imc_buf_init(&enc);
    for (int i = 0; i < 3; i++) {
        const char *out;
        unsigned outlen;
        CHECK(sasl_encode(sc, msgs[i], (unsigned)strlen(msgs[i]), &out, &outlen) == SASL_OK);
        imc_buf_append(&enc, out, outlen);
    }
    struct mock_transport m;
    mock_transport_init(&m);
    mock_transport_input(&m, enc.data, enc.len);
    m.read_piece = 3;
    m.read_pause = 1;
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    struct imc_buf got;
    imc_buf_init(&got);
    for (int guard = 0; guard < 10000 && m.inpos < m.inlen; guard++) {
        char buf[5];
        ssize_t n = imc_transport_read(t, buf, sizeof buf);
        if (n < 0) {
            CHECK_INT(errno, EAGAIN);
            continue;
        }
        CHECK(n > 0);
        imc_buf_append(&got, buf, (size_t)n);
    }
    while (imc_transport_buffered(t) > 0) {
        char buf[5];
        ssize_t n = imc_transport_read(t, buf, sizeof buf);
        CHECK(n > 0);
        imc_buf_append(&got, buf, (size_t)n);
    }
    CHECK_BYTES(got.data, got.len, "* 1 EXISTS\r\n* 2 EXPUNGE\r\n3 OK done\r\n");
    imc_transport_destroy(t);
    sasl_dispose(&sc);
    imc_buf_free(&got);
    imc_buf_free(&enc);
}

static void layer_unread_and_garbage(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    struct mock_transport m;
    mock_transport_init(&m);
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    const char *out;
    unsigned outlen;
    CHECK(sasl_encode(sc, "* 1 EXISTS\r\n", 12, &out, &outlen) == SASL_OK);
    CHECK_INT(imc_sasl_layer_unread(t, out, outlen), 0);
    CHECK_INT(imc_sasl_layer_held(t), 12);
    CHECK_INT(imc_transport_buffered(t), 12);
    char buf[64];
    CHECK_INT(imc_transport_read(t, buf, sizeof buf), 12);
    CHECK_MEM(buf, 12, "* 1 EXISTS\r\n", 12);
    CHECK_INT(imc_transport_buffered(t), 0);
    /* Plaintext where a packet should be: its "length" is absurd. */
    CHECK_INT(imc_sasl_layer_unread(t, "* 2 EXISTS\r\n", 12), -1);
    CHECK(strstr(t->error, "SASL security layer: cannot decode") == t->error);
    imc_transport_destroy(t);
    sasl_dispose(&sc);
}

/* A rejected packet is reported by the code of the call that failed and
 * by what the plugin said of it, never by a message libsasl2 kept from the
 * authentication exchange (one is planted here to look like it). */
static void layer_rejected_packet_reason(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    struct mock_transport m;
    mock_transport_init(&m);
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    /* Plaintext where a packet should be: the plugin fails it silently. */
    sasl_seterror(cc, SASL_NOLOG, "stale words from the exchange");
    CHECK_INT(imc_sasl_layer_unread(t, "* 2 EXISTS\r\n", 12), -1);
    CHECK_STR(t->error, "SASL security layer: cannot decode data from the server: "
                        "generic failure");
    imc_transport_destroy(t);
    sasl_dispose(&sc);

    /* A packet whose MAC does not match: the plugin's own words stay. */
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    sasl_seterror(cc, SASL_NOLOG, "stale words from the exchange");
    const char *out;
    unsigned outlen;
    CHECK(sasl_encode(sc, "* 1 EXISTS\r\n", 12, &out, &outlen) == SASL_OK);
    char bad[64];
    CHECK(outlen <= sizeof bad);
    memcpy(bad, out, outlen);
    bad[6] ^= 0x20; /* inside the payload, before the MAC */
    CHECK_INT(imc_sasl_layer_unread(t, bad, outlen), -1);
    CHECK(strstr(t->error, "cannot decode data from the server: generic failure: ") != NULL);
    CHECK(strstr(t->error, "MAC") != NULL);
    CHECK(!strstr(t->error, "stale words"));
    imc_transport_destroy(t);
    sasl_dispose(&sc);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(layer_partial_writes),
        TEST(layer_split_reads),
        TEST(layer_unread_and_garbage),
        TEST(layer_rejected_packet_reason),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
