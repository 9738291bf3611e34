/*
 * The security layer DIGEST-MD5 negotiates, end to end: imclient_authenticate()
 * against a server thread that runs libsasl2's own server side (saslserver.h)
 * and then speaks through the layer, over a socket.  Integrity and privacy,
 * the strongest layer when any is allowed, encoded replies a byte at a time,
 * an APPEND larger than one packet, plaintext injected behind the OK, no
 * layer when none is allowed or none is available, and a reauthentication
 * whose layer the caller did not allow.
 */
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "dynserver.h"
#include "replylog.h"
#include "saslserver.h"
#include "util/buf.h"

/* The server's side of the wire once the layer is on. */
struct layered {
    struct dynserver *d;
    sasl_conn_t *conn;
    struct imc_buf plain; /* decoded, not yet taken */
};

static int layered_send(struct layered *l, const char *data, size_t len, int slow)
{
    while (len > 0) {
        const void *p;
        sasl_getprop(l->conn, SASL_MAXOUTBUF, &p);
        unsigned max = *(const unsigned *)p;
        unsigned n = len > max ? max : (unsigned)len;
        const char *enc;
        unsigned enclen;
        if (sasl_encode(l->conn, data, n, &enc, &enclen) != SASL_OK) {
            dyn_fail(l->d, "server encode failed");
            return -1;
        }
        for (unsigned k = 0; k < enclen; k += slow ? 1 : enclen)
            if (dyn_write(l->d, enc + k, slow ? 1 : enclen) < 0)
                return -1;
        data += n;
        len -= n;
    }
    return 0;
}

/* n decoded bytes from the client (5 s per read at most). */
static char *layered_read(struct layered *l, size_t n)
{
    while (l->plain.len < n) {
        char buf[8192];
        ssize_t r = dyn_read_raw(l->d, buf, sizeof buf);
        if (r <= 0) {
            dyn_fail(l->d, "client went away after %zu of %zu bytes", l->plain.len, n);
            return NULL;
        }
        const char *out;
        unsigned outlen;
        if (sasl_decode(l->conn, buf, (unsigned)r, &out, &outlen) != SASL_OK) {
            dyn_fail(l->d, "server decode failed: %s", sasl_errdetail(l->conn));
            return NULL;
        }
        imc_buf_append(&l->plain, out, outlen);
    }
    char *s = malloc(n + 1);
    memcpy(s, l->plain.data, n);
    s[n] = '\0';
    imc_buf_consume(&l->plain, n);
    return s;
}

static int layered_expect(struct layered *l, const char *want)
{
    char *got = layered_read(l, strlen(want));
    if (!got)
        return -1;
    int ok = strcmp(got, want) == 0;
    if (!ok)
        dyn_fail(l->d, "layer: got \"%s\", want \"%s\"", got, want);
    free(got);
    return ok ? 0 : -1;
}

enum digest_after { AFTER_LAYERED, AFTER_INJECTED, AFTER_PLAIN };

struct digest_script {
    const char *user;
    unsigned server_max_ssf;
    enum digest_after after;
    int slow;            /* encoded replies one byte per write */
    size_t append_size;  /* an APPEND literal of this size after NOOP */
    char *append_data;
    int server_ssf;      /* what the server negotiated */
    int cancelled;       /* the client sent "*" */
};

/* The client may open with an initial response: libsasl2's DIGEST-MD5
 * remembers the last server's nonce and tries RFC 2831 subsequent
 * authentication, which our server may accept or answer with a fresh
 * challenge. */
static int digest_exchange(struct dynserver *d, sasl_conn_t *s)
{
    char *cmd = dyn_line(d);
    const char *head = "2 AUTHENTICATE DIGEST-MD5";
    if (!cmd || strncmp(cmd, head, strlen(head)) != 0 ||
        (cmd[strlen(head)] != '\0' && cmd[strlen(head)] != ' ')) {
        dyn_fail(d, "unexpected \"%s\"", cmd ? cmd : "");
        free(cmd);
        return -1;
    }
    char *ir = NULL;
    size_t irlen = 0;
    if (cmd[strlen(head)] == ' ')
        ir = dyn_unb64(cmd + strlen(head) + 1, &irlen);
    free(cmd);
    const char *out;
    unsigned outlen;
    int r = sasl_server_start(s, "DIGEST-MD5", ir, (unsigned)irlen, &out, &outlen);
    free(ir);
    while (r == SASL_CONTINUE) {
        char *enc = dyn_b64(out, outlen);
        char *line = malloc(strlen(enc) + 8);
        sprintf(line, "+ %s\r\n", enc);
        dyn_send(d, line);
        free(line);
        free(enc);
        char *resp = dyn_line(d);
        if (!resp)
            return -1;
        if (strcmp(resp, "*") == 0) {
            free(resp);
            dyn_send(d, "2 BAD cancelled\r\n");
            return 1;
        }
        size_t len = 0;
        char *dec = resp[0] ? dyn_unb64(resp, &len) : strdup("");
        free(resp);
        if (!dec) {
            dyn_fail(d, "response is not base64");
            return -1;
        }
        r = sasl_server_step(s, dec, (unsigned)len, &out, &outlen);
        free(dec);
    }
    if (r != SASL_OK)
        dyn_fail(d, "server side of DIGEST-MD5: %s", sasl_errdetail(s));
    return r == SASL_OK ? 0 : -1;
}

static void digest_server(struct dynserver *d)
{
    struct digest_script *sc = d->arg;
    dyn_send(d, "* OK hi\r\n");
    if (dyn_expect(d, "1 CAPABILITY") < 0)
        return;
    dyn_send(d, "* CAPABILITY IMAP4rev1 SASL-IR AUTH=DIGEST-MD5\r\n1 OK done\r\n");
    sasl_conn_t *s = saslserver_conn(sc->server_max_ssf);
    int r = s ? digest_exchange(d, s) : -1;
    if (r != 0) {
        sc->cancelled = r > 0;
        sasl_dispose(&s);
        return;
    }
    const void *p;
    sasl_getprop(s, SASL_SSF, &p);
    sc->server_ssf = (int)*(const sasl_ssf_t *)p;
    struct layered l = { d, s, { NULL, 0, 0, 0 } };
    const char *ok = "2 OK welcome\r\n";
    const char *more = "* 1 EXISTS\r\n";
    if (sc->after == AFTER_INJECTED || sc->after == AFTER_PLAIN) {
        /* One write: the OK and plaintext behind it. */
        char both[64];
        snprintf(both, sizeof both, "%s%s", ok, more);
        dyn_send(d, both);
    } else {
        /* One write: the plain OK and the first encoded packet behind it. */
        const char *enc;
        unsigned enclen;
        sasl_encode(s, more, (unsigned)strlen(more), &enc, &enclen);
        char *both = malloc(strlen(ok) + enclen);
        memcpy(both, ok, strlen(ok));
        memcpy(both + strlen(ok), enc, enclen);
        dyn_write(d, both, strlen(ok) + enclen);
        free(both);
    }
    if (sc->after == AFTER_INJECTED) {
        sasl_dispose(&s);
        return;
    }
    if (sc->after == AFTER_PLAIN) {
        if (dyn_expect(d, "3 NOOP") == 0)
            dyn_send(d, "3 OK noop\r\n");
        sasl_dispose(&s);
        return;
    }
    if (layered_expect(&l, "3 NOOP\r\n") == 0) {
        const char *reply = "* 2 EXISTS\r\n3 OK noop\r\n";
        layered_send(&l, reply, strlen(reply), sc->slow);
    }
    if (sc->append_size && !d->error[0]) {
        char head[64];
        snprintf(head, sizeof head, "4 APPEND INBOX {%zu}\r\n", sc->append_size);
        if (layered_expect(&l, head) == 0) {
            layered_send(&l, "+ go\r\n", 6, 0);
            char *body = layered_read(&l, sc->append_size);
            if (body && memcmp(body, sc->append_data, sc->append_size) != 0)
                dyn_fail(d, "APPEND data differs");
            free(body);
            if (!d->error[0] && layered_expect(&l, "\r\n") == 0)
                layered_send(&l, "4 OK appended\r\n", 15, 0);
        }
    }
    imc_buf_free(&l.plain);
    sasl_dispose(&s);
}

static struct sasl_client digest_md5 = { "DIGEST-MD5", 128 };
static struct sasl_client *only_digest[] = { &digest_md5, NULL };

/* A script for a user of its own, no slow replies, no APPEND. */
static struct digest_script digest_script_for(unsigned server_max_ssf, enum digest_after after)
{
    struct digest_script sc = { saslserver_fresh_user(), server_max_ssf, after, 0, 0, NULL, -1, 0 };
    return sc;
}

/* Empty the log, start digest_server playing sc and connect to it as
 * sc's user with the password alicepw, from s (which must outlive the
 * connection); NULL (reported) when the server side or the connection
 * could not be set up.  *d is the server when the connection is made. */
static struct imclient *digest_connect(struct dynserver **d, struct digest_script *sc,
                                       struct auth_secrets *s)
{
    reset();
    if (saslserver_ready() != 0) {
        check_fail(__FILE__, __LINE__, "libsasl2's server side could not be set up");
        return NULL;
    }
    *s = auth_alice();
    s->authname = sc->user;
    *d = dyn_start(digest_server, sc);
    return auth_open((*d)->port, s);
}

#define CHECK_DIGEST_AUTH(c, protallowed, want) \
    CHECK_AUTH(c, imclient_authenticate(c, only_digest, "imap", NULL, protallowed), want)

static void digest_layer_run(int protallowed, unsigned server_max, int slow, size_t append,
                             int want_ssf_min, int want_ssf_max)
{
    struct digest_script sc = digest_script_for(server_max, AFTER_LAYERED);
    sc.slow = slow;
    sc.append_size = append;
    if (append) {
        sc.append_data = malloc(append);
        for (size_t i = 0; i < append; i++)
            sc.append_data[i] = (char)('a' + i % 26);
        for (size_t i = 78; i < append; i += 80) {
            sc.append_data[i] = '\r';
            sc.append_data[i + 1 < append ? i + 1 : i] = '\n';
        }
    }
    struct auth_secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record_ssf, "exists", NULL);
    CHECK_DIGEST_AUTH(c, protallowed, 0);
    int ssf = imclient_getssf(c);
    CHECK(ssf >= want_ssf_min && ssf <= want_ssf_max);
    CHECK_INT(ssf, sc.server_ssf);
    /* The EXISTS that came in the OK's read was decoded and delivered, with
     * the layer already reported. */
    char want[160];
    snprintf(want, sizeof want, "u|OK|-1|hi\nexists@%d|EXISTS|1|\n", ssf);
    CHECK_STR(log_text(), want);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    snprintf(want, sizeof want,
             "u|OK|-1|hi\nexists@%d|EXISTS|1|\nexists@%d|EXISTS|2|\nnoop|OK|-1|noop\n", ssf,
             ssf);
    CHECK_STR(log_text(), want);
    if (append) {
        char *msg = malloc(append + 1);
        memcpy(msg, sc.append_data, append);
        msg[append] = '\0';
        imclient_send(c, finished, "append", "APPEND INBOX %s", msg);
        run_until(c, 2);
        free(msg);
        CHECK(strstr(log_text(), "append|OK|-1|appended\n") != NULL);
    }
    imclient_close(c);
    DYN_OK(d);
    free(sc.append_data);
}

static void digest_integrity_layer(void)
{
    digest_layer_run(SASL_PROT_INTEGRITY, 256, 0, 0, 1, 1);
}

static void digest_privacy_layer(void)
{
    digest_layer_run(SASL_PROT_PRIVACY, 256, 0, 0, 2, 256);
}

static void digest_any_takes_the_strongest(void)
{
    digest_layer_run(SASL_PROT_ANY, 256, 0, 0, 2, 256);
}

static void digest_layer_byte_at_a_time(void)
{
    digest_layer_run(SASL_PROT_INTEGRITY, 256, 1, 0, 1, 1);
}

/* More than one maximum packet: the layer splits and the server joins. */
static void digest_layer_large_append(void)
{
    digest_layer_run(SASL_PROT_INTEGRITY, 256, 0, 300000, 1, 1);
}

/* Bytes behind the OK with a layer on: plaintext there is an injection. */
static void digest_layer_injection_closes(void)
{
    struct digest_script sc = digest_script_for(256, AFTER_INJECTED);
    struct auth_secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record, "exists", NULL);
    CHECK_DIGEST_AUTH(c, SASL_PROT_INTEGRITY, 1);
    CHECK(!imclient_isopen(c));
    CHECK_ERROR_HAS(c, "did not come through the security layer");
    CHECK_STR(log_text(), "u|OK|-1|hi\n");
    imclient_close(c);
    DYN_OK(d);
}

/* With SASL_PROT_NONE, DIGEST-MD5 negotiates no layer: SSF 0, and what
 * follows the OK is plain. */
static void digest_without_layer(void)
{
    struct digest_script sc = digest_script_for(256, AFTER_PLAIN);
    struct auth_secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record, "exists", NULL);
    CHECK_DIGEST_AUTH(c, SASL_PROT_NONE, 0);
    CHECK_INT(imclient_getssf(c), 0);
    CHECK_INT(sc.server_ssf, 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nexists|EXISTS|1|\nnoop|OK|-1|noop\n");
    imclient_close(c);
    DYN_OK(d);
}

/* The server can give no layer but only integrity is allowed: DIGEST-MD5
 * fails on our side, "*" goes out, result 1. */
static void digest_layer_unavailable(void)
{
    struct digest_script sc = digest_script_for(0, AFTER_LAYERED);
    struct auth_secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    CHECK_DIGEST_AUTH(c, SASL_PROT_INTEGRITY, 1);
    CHECK(strstr(imclient_error(c), "DIGEST-MD5: ") == imclient_error(c));
    CHECK_INT(imclient_getssf(c), -1);
    CHECK(imclient_isopen(c));
    imclient_close(c);
    DYN_OK(d);
    CHECK(sc.cancelled);
}

/* libsasl2 reauthenticates DIGEST-MD5 with the layer of the previous
 * session even when the new properties forbid it (here: integrity, then
 * none allowed).  The library checks the SSF it got against protallowed
 * and closes rather than talk through a layer the caller refused. */
static void digest_reauth_layer_is_checked(void)
{
    reset();
    CHECK(saslserver_ready() == 0);
    struct auth_secrets s = auth_alice();
    s.authname = saslserver_fresh_user();
    struct digest_script first = { s.authname, 256, AFTER_PLAIN, 0, 0, NULL, -1, 0 };
    struct digest_script second = { s.authname, 256, AFTER_INJECTED, 0, 0, NULL, -1, 0 };
    struct sasl_client *mechs[] = { &digest_md5, NULL };

    struct dynserver *d = dyn_start(digest_server, &first);
    struct imclient *c = auth_open(d->port, &s);
    CHECK(c != NULL);
    first.after = AFTER_INJECTED;
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_INTEGRITY), 1);
    imclient_close(c);
    dyn_finish_quiet(d);

    d = dyn_start(digest_server, &second);
    c = auth_open(d->port, &s);
    CHECK(c != NULL);
    int r = imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_NONE);
    if (getenv("IMC_TEST_DEBUG"))
        fprintf(stderr, "reauth: %d %s\n", r, imclient_error(c));
    if (r == 0) {
        /* A libsasl2 that honours the new properties: no layer at all. */
        CHECK_INT(imclient_getssf(c), 0);
    } else {
        CHECK_INT(r, 1);
        CHECK_ERROR_HAS(c, "DIGEST-MD5 negotiated a security layer of strength 1, "
                           "which was not allowed");
        CHECK(!imclient_isopen(c));
    }
    imclient_close(c);
    dyn_finish_quiet(d);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(digest_integrity_layer),
        TEST(digest_privacy_layer),
        TEST(digest_any_takes_the_strongest),
        TEST(digest_layer_byte_at_a_time),
        TEST(digest_layer_large_append),
        TEST(digest_layer_injection_closes),
        TEST(digest_without_layer),
        TEST(digest_layer_unavailable),
        TEST(digest_reauth_layer_is_checked),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
