/*
 * imclient_starttls() and imclient_begintls() with arguments that cannot
 * work: each is refused at the call, before anything reaches the server
 * (no STARTTLS, no ClientHello), the connection is closed, and
 * imclient_error() names the argument at fault.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "replylog.h"
#include "tlsfake.h"

static char certdir[64];

/* name in certdir; absolute names, "" and NULL as given. */
static char *arg(const char *name, char *buf, size_t cap)
{
    if (!name)
        return NULL;
    snprintf(buf, cap, "%s%s%s", name[0] == '/' || !name[0] ? "" : certdir,
             name[0] == '/' || !name[0] ? "" : "/", name);
    return buf;
}

/* want with every '@' replaced by certdir. */
static void expand(char *out, size_t cap, const char *want)
{
    size_t n = 0, dirlen = strlen(certdir);
    for (const char *p = want; *p; p++) {
        size_t len = *p == '@' ? dirlen : 1;
        if (n + len + 1 > cap)
            break;
        memcpy(out + n, *p == '@' ? certdir : p, len);
        n += len;
    }
    out[n] = '\0';
}

static struct tlsfake *serve(const struct tlsfake_step *steps, size_t n)
{
    char cert[128], key[128];
    snprintf(cert, sizeof cert, "%s/good.pem", certdir);
    snprintf(key, sizeof key, "%s/leaf.key", certdir);
    struct tlsfake_config cfg = { cert, key, NULL, 0 };
    return tlsfake_start(&cfg, steps, n);
}

struct argcase {
    const char *cert, *key, *ca, *capath;
    const char *error; /* '@' stands for the certificate folder */
};

static const struct argcase cases[] = {
    { NULL, NULL, "", NULL,
      "CAfile is \"\": name a file of trusted CAs, or pass NULL (with CApath NULL) for "
      "the system's" },
    { NULL, NULL, NULL, "", "CApath is \"\": name a directory of trusted CAs, or pass NULL" },
    { NULL, NULL, "", "", "CAfile is \"\": name a file of trusted CAs, or pass NULL (with "
                          "CApath NULL) for the system's" },
    { NULL, NULL, "/nonexistent/ca.pem", NULL,
      "CAfile \"/nonexistent/ca.pem\": No such file or directory" },
    { NULL, NULL, "/", NULL, "CAfile \"/\": Is a directory" },
    { NULL, NULL, "leaf.key", NULL,
      "CAfile \"@/leaf.key\": cannot load trusted CAs: no certificate or crl found" },
    { NULL, NULL, NULL, "/nonexistent/certs",
      "CApath \"/nonexistent/certs\": No such file or directory" },
    { NULL, NULL, NULL, "ca.pem", "CApath \"@/ca.pem\": Not a directory" },
    { "/nonexistent/client.pem", NULL, "ca.pem", NULL,
      "cert_file \"/nonexistent/client.pem\": No such file or directory" },
    { "client.pem", "/nonexistent/client.key", "ca.pem", NULL,
      "key_file \"/nonexistent/client.key\": No such file or directory" },
    { "client.pem", "leaf.key", "ca.pem", NULL,
      "key_file \"@/leaf.key\": cannot use the client key: key values mismatch" },
    { "client.pem", NULL, "ca.pem", NULL,
      "cert_file \"@/client.pem\" holds no usable key (key_file is NULL): " },
    { NULL, "client.key", "ca.pem", NULL, "key_file \"@/client.key\" given without cert_file" },
};

#define GREETING "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"

/* One refusal: non-zero, closed, the reason, and nothing on the wire. */
static int refused(const struct argcase *k, int implicit)
{
    char b1[200], b2[200], b3[200], b4[200], want[400];
    expand(want, sizeof want, k->error);
    reset();
    struct tlsfake *fs = implicit ? serve(TLSFAKE(T_SLEEP(1))) : serve(TLSFAKE(T_SEND(GREETING)));
    struct imclient *c = open_logged("localhost", tlsfake_port(fs));
    if (!c)
        return 0;
    char *cert = arg(k->cert, b1, sizeof b1), *key = arg(k->key, b2, sizeof b2);
    char *ca = arg(k->ca, b3, sizeof b3), *capath = arg(k->capath, b4, sizeof b4);
    int r = implicit ? imclient_begintls(c, cert, key, ca, capath)
                     : imclient_starttls(c, cert, key, ca, capath);
    char got[300];
    snprintf(got, sizeof got, "%s", imclient_error(c));
    int open = imclient_isopen(c);
    imclient_close(c);
    char serr[600];
    int sr = tlsfake_wait(fs, serr, sizeof serr);
    size_t sent;
    tlsfake_received(fs, &sent);
    int tls = tlsfake_tls_offset(fs) != (size_t)-1;
    tlsfake_free(fs);
    const char *prefix = "TLS setup failed: ";
    int ok = r != 0 && !open && strncmp(got, prefix, strlen(prefix)) == 0 &&
             strncmp(got + strlen(prefix), want, strlen(want)) == 0 && sent == 0 && !tls &&
             sr == 0;
    if (!ok)
        fprintf(stderr, "  %s: got %d%s \"%s\", want \"%s%s...\"; server got %zu byte(s)%s\n",
                implicit ? "begintls" : "starttls", r, open ? " (open)" : "", got, prefix,
                want, sent, sr ? serr : "");
    return ok;
}

static void starttls_refused_before_sending(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad += !refused(&cases[i], 0);
    CHECK_INT(bad, 0);
}

static void begintls_refused_before_sending(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad += !refused(&cases[i], 1);
    CHECK_INT(bad, 0);
}

/* Without verification CAfile and CApath are not used, so not checked:
 * a test server's STARTTLS goes on. */
static void noverify_ignores_ca_arguments(void)
{
    reset();
    struct tlsfake *fs = serve(TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                       T_SEND("1 OK go\r\n"), T_TLS()));
    struct imclient *c = open_logged("localhost", tlsfake_port(fs));
    CHECK(c != NULL);
    imclient_settlsverify(c, IMCLIENT_TLS_NOVERIFY);
    int r = imclient_starttls(c, NULL, NULL, "", "/nonexistent/certs");
    if (r != 0)
        fprintf(stderr, "  %s\n", imclient_error(c));
    CHECK_INT(r, 0);
    imclient_close(c);
    CHECK_SERVER(tlsfake_wait, fs);
    tlsfake_free(fs);
}

int main(int argc, char **argv)
{
    snprintf(certdir, sizeof certdir, "/tmp/imc-tlsargs.XXXXXX");
    if (!mkdtemp(certdir) || tlsfake_certs_make(certdir) < 0)
        return 1;
    static const struct check_test tests[] = {
        TEST(starttls_refused_before_sending),
        TEST(begintls_refused_before_sending),
        TEST(noverify_ignores_ca_arguments),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    reset();
    tlsfake_certs_remove(certdir);
    return r;
}
