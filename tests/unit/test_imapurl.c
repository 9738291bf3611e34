/* IMAP URLs (RFC 5092): the RFC's examples parsed and rebuilt, what each
 * part must percent-encode, IPv6 hosts, numbers at their limits, every
 * malformed class refused with its code, and buffer sizes at the edge. */
#include <stdio.h>
#include <string.h>

#include <cyrus/imapurl.h>

#include "check.h"
#include "same_url.h"

static int is_zero(const struct imapurl *u)
{
    static const struct imapurl zero;
    return memcmp(u, &zero, sizeof zero) == 0;
}

static char buf[4096];

static int parse(struct imapurl *u, const char *s)
{
    return imapurl_parse(u, s, buf, sizeof buf);
}

/* Parses s, builds it again and expects want (NULL: s itself), and checks
 * that the rebuilt URL parses to the same fields. */
#define CANONICAL(s, want)                                                  \
    do {                                                                    \
        struct imapurl u_, v_;                                              \
        char out_[1024], buf2_[4096];                                       \
        size_t n_;                                                          \
        CHECK_INT(parse(&u_, s), 0);                                        \
        CHECK_INT(imapurl_build(&u_, out_, sizeof out_, &n_), 0);           \
        CHECK_STR(out_, (want) ? (want) : (s));                             \
        CHECK_INT(n_, strlen(out_));                                        \
        CHECK_INT(imapurl_parse(&v_, out_, buf2_, sizeof buf2_), 0);        \
        CHECK(same_url(&u_, &v_));                                          \
    } while (0)

#define BAD(code, s)                                                        \
    do {                                                                    \
        struct imapurl u_;                                                  \
        int r_ = parse(&u_, s);                                             \
        if (r_ != (code))                                                   \
            check_fail(__FILE__, __LINE__, "%s: got %d, want %d", s, r_, code); \
        if (r_ != (code))                                                   \
            return;                                                         \
        CHECK(is_zero(&u_));                                                \
    } while (0)

static void rfc5092_partial_example(void)
{
    struct imapurl u;
    const char *s = "imap://minbari.example.org/gray-council;UIDVALIDITY=385759045/;UID=20/"
                    ";PARTIAL=0.1024";
    CHECK_INT(parse(&u, s), 0);
    CHECK(!u.user && !u.auth && u.port == 0);
    CHECK_STR(u.host, "minbari.example.org");
    CHECK_STR(u.mailbox, "gray-council");
    CHECK_STR(u.mailbox_utf8, "gray-council");
    CHECK_INT(u.uidvalidity, 385759045);
    CHECK_INT(u.uid, 20);
    CHECK(!u.section && !u.search && !u.urlauth.access);
    CHECK(u.has_partial);
    CHECK_INT(u.start_octet, 0);
    CHECK_INT(u.octet_count, 1024);
    CANONICAL(s, NULL);
}

/* The URL holds UTF-8; SELECT takes modified UTF-7 (RFC 5092 section 9). */
static void rfc5092_international_example(void)
{
    struct imapurl u;
    const char *s = "imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E/"
                    "%E5%8F%B0%E5%8C%97";
    CHECK_INT(parse(&u, s), 0);
    CHECK_STR(u.mailbox, "~peter/&ZeVnLIqe-/&U,BTFw-");
    CHECK_STR(u.mailbox_utf8,
              "~peter/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xe5\x8f\xb0\xe5\x8c\x97");
    CANONICAL(s, NULL);
    /* Lower-case hex is read, upper case written. */
    CANONICAL("imap://psicorp.example.org/~peter/%e5%8f%b0%e5%8c%97",
              "imap://psicorp.example.org/~peter/%E5%8F%B0%E5%8C%97");
}

static void rfc5092_auth_examples(void)
{
    struct imapurl u;
    CHECK_INT(parse(&u, "imap://;AUTH=GSSAPI@minbari.example.org/gray-council/;uid=20/;section=1.2"), 0);
    CHECK(!u.user);
    CHECK_STR(u.auth, "GSSAPI");
    CHECK_STR(u.mailbox, "gray-council");
    CHECK_INT(u.uid, 20);
    CHECK_STR(u.section, "1.2");
    CHECK(!u.has_partial);
    CANONICAL("imap://;AUTH=GSSAPI@minbari.example.org/gray-council/;uid=20/;section=1.2",
              "imap://;AUTH=GSSAPI@minbari.example.org/gray-council/;UID=20/;SECTION=1.2");

    CHECK_INT(parse(&u, "imap://;AUTH=*@minbari.example.org/gray%20council?SUBJECT%20shadows"), 0);
    CHECK_STR(u.auth, "*");
    CHECK_STR(u.mailbox, "gray council");
    CHECK_STR(u.search, "SUBJECT shadows");
    CANONICAL("imap://;AUTH=*@minbari.example.org/gray%20council?SUBJECT%20shadows", NULL);

    const char *lit = "imap://john;AUTH=*@minbari.example.org/babylon5/personel?"
                      "charset%20UTF-8%20SUBJECT%20%7B14+%7D%0D%0A%D0%98%D0%B2%"
                      "D0%B0%D0%BD%D0%BE%D0%B2%D0%B0";
    CHECK_INT(parse(&u, lit), 0);
    CHECK_STR(u.user, "john");
    CHECK_STR(u.mailbox, "babylon5/personel");
    CHECK_STR(u.search, "charset UTF-8 SUBJECT {14+}\r\n"
                        "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2\xd0\xb0");
    CANONICAL(lit, NULL);

    CHECK_INT(parse(&u, "imap://michael@example.org/INBOX"), 0);
    CHECK_STR(u.user, "michael");
    CHECK(!u.auth);
    CANONICAL("imap://michael@example.org/INBOX", NULL);
    CANONICAL("imap://bester@example.org/INBOX", NULL);
}

static void rfc5092_urlauth_example(void)
{
    struct imapurl u;
    const char *s = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth="
                    "submit+fred:internal:91354a473744909de610943775f92038";
    CHECK_INT(parse(&u, s), 0);
    CHECK_STR(u.user, "joe");
    CHECK_STR(u.mailbox, "INBOX");
    CHECK_INT(u.uid, 20);
    CHECK_STR(u.section, "1.2");
    CHECK(!u.urlauth.expire);
    CHECK_STR(u.urlauth.access, "submit+fred");
    CHECK_STR(u.urlauth.mech, "internal");
    CHECK_STR(u.urlauth.token, "91354a473744909de610943775f92038");
    CANONICAL(s, "imap://joe@example.com/INBOX/;UID=20/;SECTION=1.2;URLAUTH="
                 "submit+fred:internal:91354a473744909de610943775f92038");
    /* The rump, with an expiry, as GENURLAUTH takes it. */
    const char *rump = "imap://joe@example.com/INBOX/;UID=20;EXPIRE=2026-12-02T10:00:00Z;"
                       "URLAUTH=user+j%C3%B6rg";
    CHECK_INT(parse(&u, rump), 0);
    CHECK_STR(u.urlauth.expire, "2026-12-02T10:00:00Z");
    CHECK_STR(u.urlauth.access, "user+j\xc3\xb6rg");
    CHECK(!u.urlauth.mech && !u.urlauth.token);
    CANONICAL(rump, NULL);
    CANONICAL("imap://h/m/;UID=1/;PARTIAL=5;EXPIRE=2026-12-02t10:00:00.25+01:30;URLAUTH=authuser", NULL);
    CANONICAL("imap://h/m/;UID=1;URLAUTH=Anonymous:X-1.b:0123456789abcdefABCDEF0123456789abcdef", NULL);
}

static void server_urls(void)
{
    struct imapurl u;
    CHECK_INT(parse(&u, "imap://minbari.example.org"), 0);
    CHECK_STR(u.host, "minbari.example.org");
    CHECK(!u.mailbox && !u.mailbox_utf8);
    CANONICAL("imap://minbari.example.org", "imap://minbari.example.org/");
    CANONICAL("IMAP://Minbari.Example.ORG:143/", "imap://Minbari.Example.ORG:143/");
    CANONICAL("imap://u;AUTH=SCRAM-SHA-256@h:993/", NULL);
    CANONICAL("imap://h:/", "imap://h/"); /* an empty port is the default */
    CANONICAL("imap://192.0.2.1/INBOX", NULL);
    CANONICAL("imap://a.b-c_d~e!$&'()*+,;=f/", NULL); /* reg-name's characters */
    CANONICAL("imap://b%C3%BCcher.example/", NULL);
}

static void ipv6_hosts(void)
{
    struct imapurl u;
    CHECK_INT(parse(&u, "imap://[::1]:993/INBOX"), 0);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 993);
    CANONICAL("imap://[::1]:993/INBOX", NULL);
    CANONICAL("imap://alice@[2001:db8::7]/", NULL);
    CANONICAL("imap://[::ffff:192.0.2.1]/", NULL);
    BAD(IMAPURL_EINVAL, "imap://[::1/");
    BAD(IMAPURL_EINVAL, "imap://[::1]x/");
    BAD(IMAPURL_EINVAL, "imap://[::g]/");
    BAD(IMAPURL_EINVAL, "imap://[]/");
    BAD(IMAPURL_EINVAL, "imap://[192.0.2.1]/");
    BAD(IMAPURL_EINVAL, "imap://[fe80::1%25eth0]/");
    BAD(IMAPURL_EINVAL, "imap://::1/");
    BAD(IMAPURL_ERANGE, "imap://[::1]:99999/");
    BAD(IMAPURL_ENOTSUP, "imap://[v1.fe80::a+en1]/");
}

/* What each part must escape (RFC 5092 section 11 and sections 3.2, 5, 7). */
static void build_escapes(void)
{
    struct imapurl u = { 0 };
    char out[512];
    size_t n;
    u.user = "fred smith;x@y:z/&=+";
    u.auth = "PLAIN";
    u.host = "h";
    u.mailbox = "a b;c?d#e%f[g]:@/&-&AOQ-";
    u.uidvalidity = 7;
    CHECK_INT(imapurl_build(&u, out, sizeof out, &n), 0);
    CHECK_STR(out, "imap://fred%20smith%3Bx%40y%3Az%2F&=+;AUTH=PLAIN@h/"
                   "a%20b%3Bc%3Fd%23e%25f%5Bg%5D:@/&%C3%A4;UIDVALIDITY=7");

    /* A leading "/" and dot-segments are escaped; other dots are not. */
    struct imapurl d = { 0 };
    d.host = "h";
    d.mailbox = "/./a/../b/.../.c/d./..";
    CHECK_INT(imapurl_build(&d, out, sizeof out, &n), 0);
    CHECK_STR(out, "imap://h/%2F%2E/a/%2E%2E/b/.../.c/d./%2E%2E");
    CANONICAL("imap://h/%2F%2E/a/%2E%2E/b/.../.c/d./%2E%2E", NULL);
    d.mailbox = ".";
    CHECK_INT(imapurl_build(&d, out, sizeof out, &n), 0);
    CHECK_STR(out, "imap://h/%2E");
    d.mailbox = "a//b/";
    d.uid = 3;
    CHECK_INT(imapurl_build(&d, out, sizeof out, &n), 0);
    CHECK_STR(out, "imap://h/a//b//;UID=3");
    CANONICAL("imap://h/a//b//;UID=3", NULL);

    struct imapurl m = { 0 };
    m.host = "h";
    m.mailbox = "INBOX";
    m.uid = 9;
    m.section = "1.HEADER.FIELDS.NOT (To Cc)";
    CHECK_INT(imapurl_build(&m, out, sizeof out, &n), 0);
    CHECK_STR(out, "imap://h/INBOX/;UID=9/;SECTION=1.HEADER.FIELDS.NOT%20(To%20Cc)");
    struct imapurl q = { 0 };
    q.host = "h";
    q.mailbox = "INBOX";
    q.search = "SUBJECT \"a?b#c;d\"";
    CHECK_INT(imapurl_build(&q, out, sizeof out, &n), 0);
    CHECK_STR(out, "imap://h/INBOX?SUBJECT%20%22a%3Fb%23c%3Bd%22");
}

static void build_from_utf8(void)
{
    struct imapurl u = { 0 }, v;
    char out[256];
    u.host = "h";
    u.mailbox_utf8 = "Entw\xc3\xbcrfe & Co";
    CHECK_INT(imapurl_build(&u, out, sizeof out, NULL), 0);
    CHECK_STR(out, "imap://h/Entw%C3%BCrfe%20&%20Co");
    CHECK_INT(parse(&v, out), 0);
    CHECK_STR(v.mailbox, "Entw&APw-rfe &- Co");
    CHECK_STR(v.mailbox_utf8, u.mailbox_utf8);
    /* mailbox wins over mailbox_utf8. */
    u.mailbox = "Sent";
    CHECK_INT(imapurl_build(&u, out, sizeof out, NULL), 0);
    CHECK_STR(out, "imap://h/Sent");
    u.mailbox = NULL;
    u.mailbox_utf8 = "\xed\xa0\x80";
    CHECK_INT(imapurl_build(&u, out, sizeof out, NULL), IMAPURL_EINVAL);
}

static void keywords_any_case(void)
{
    CANONICAL("IMAP://h/INBOX;uidvalidity=5/;Uid=7/;SECTION=header/;partial=3.4",
              "imap://h/INBOX;UIDVALIDITY=5/;UID=7/;SECTION=header/;PARTIAL=3.4");
    CANONICAL("imap://u;auth=plain@h/", "imap://u;AUTH=plain@h/");
    CANONICAL("imap://h/INBOX/;UID=7/;SECTION=2.1.mime", NULL);
    CANONICAL("imap://h/INBOX/;UID=7/;SECTION=TEXT", NULL);
    CANONICAL("imap://h/INBOX/;UID=7/;SECTION=3.HEADER", NULL);
    CANONICAL("imap://h/INBOX/;UID=7/;SECTION=HEADER.FIELDS%20(Subject)/;PARTIAL=0", NULL);
    /* ".." with ;UIDVALIDITY is no dot-segment (RFC 5092 section 9.1). */
    CANONICAL("imap://h/..;UIDVALIDITY=385759045/;UID=20",
              "imap://h/%2E%2E;UIDVALIDITY=385759045/;UID=20");
}

static void numbers(void)
{
    struct imapurl u;
    CHECK_INT(parse(&u, "imap://h:65535/m;UIDVALIDITY=4294967295/;UID=4294967295/"
                        ";PARTIAL=4294967295.4294967295"), 0);
    CHECK_INT(u.port, 65535);
    CHECK_INT(u.uidvalidity, 4294967295UL);
    CHECK_INT(u.uid, 4294967295UL);
    CHECK_INT(u.start_octet, 4294967295UL);
    CHECK_INT(u.octet_count, 4294967295UL);
    CHECK_INT(parse(&u, "imap://h:0143/m/;UID=1/;PARTIAL=007"), 0);
    CHECK_INT(u.port, 143);
    CHECK_INT(u.start_octet, 7);
    CHECK(u.has_partial && u.octet_count == 0);

    BAD(IMAPURL_ERANGE, "imap://h/m/;UID=0");
    BAD(IMAPURL_ERANGE, "imap://h/m;UIDVALIDITY=0");
    BAD(IMAPURL_ERANGE, "imap://h/m;UIDVALIDITY=00/;UID=1");
    BAD(IMAPURL_ERANGE, "imap://h/m/;UID=4294967296");
    BAD(IMAPURL_ERANGE, "imap://h/m;UIDVALIDITY=99999999999999999999999999");
    BAD(IMAPURL_ERANGE, "imap://h/m/;UID=1/;PARTIAL=4294967296");
    BAD(IMAPURL_ERANGE, "imap://h/m/;UID=1/;PARTIAL=1.0");
    BAD(IMAPURL_ERANGE, "imap://h/m/;UID=1/;PARTIAL=1.18446744073709551617");
    BAD(IMAPURL_ERANGE, "imap://h:0/");
    BAD(IMAPURL_ERANGE, "imap://h:65536/");
    BAD(IMAPURL_ERANGE, "imap://h:18446744073709551616/");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=020");   /* nz-number: no leading zero */
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=-1");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=+1");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1x");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;PARTIAL=");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;PARTIAL=.5");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;PARTIAL=1.");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;PARTIAL=1.05");
    BAD(IMAPURL_EINVAL, "imap://h:1a/");
    BAD(IMAPURL_EINVAL, "imap://h:-1/");
}

static void malformed(void)
{
    /* Percent escapes. */
    BAD(IMAPURL_EINVAL, "imap://h/a%");
    BAD(IMAPURL_EINVAL, "imap://h/a%4");
    BAD(IMAPURL_EINVAL, "imap://h/a%4g");
    BAD(IMAPURL_EINVAL, "imap://h/a%zz");
    BAD(IMAPURL_EINVAL, "imap://h/a%00b");
    BAD(IMAPURL_EINVAL, "imap://u%00@h/");
    BAD(IMAPURL_EINVAL, "imap://h%/");
    /* Characters a part may not hold unescaped. */
    BAD(IMAPURL_EINVAL, "imap://h/a b");
    BAD(IMAPURL_EINVAL, "imap://h/a\"b");
    BAD(IMAPURL_EINVAL, "imap://h/a<b");
    BAD(IMAPURL_EINVAL, "imap://h/a#frag");
    BAD(IMAPURL_EINVAL, "imap://h/a\xc3\xa4");
    BAD(IMAPURL_EINVAL, "imap://u:pw@h/");       /* no password in IMAP URLs */
    BAD(IMAPURL_EINVAL, "imap://u@v@h/");
    BAD(IMAPURL_EINVAL, "imap://h?x");
    BAD(IMAPURL_EINVAL, "imap://h#x");
    BAD(IMAPURL_EINVAL, "imap://h/INBOX?a?b");
    BAD(IMAPURL_EINVAL, "imap://h/INBOX?");
    /* Not UTF-8 where RFC 5092 section 8 wants UTF-8. */
    BAD(IMAPURL_EINVAL, "imap://h/%FF");
    BAD(IMAPURL_EINVAL, "imap://h/%C0%AF");
    BAD(IMAPURL_EINVAL, "imap://h/%ED%A0%80");
    BAD(IMAPURL_EINVAL, "imap://h/%E6%97");
    BAD(IMAPURL_EINVAL, "imap://%FF@h/");
    BAD(IMAPURL_EINVAL, "imap://%FF/");
    BAD(IMAPURL_EINVAL, "imap://h%0A/");
    BAD(IMAPURL_EINVAL, "imap://h%3A1/");
    /* Scheme, server and userinfo. */
    BAD(IMAPURL_EINVAL, "http://h/");
    BAD(IMAPURL_EINVAL, "imaps://h/");
    BAD(IMAPURL_EINVAL, "imap:/h/");
    BAD(IMAPURL_EINVAL, "imap:h");
    BAD(IMAPURL_EINVAL, "imap://");
    BAD(IMAPURL_EINVAL, "imap:///INBOX");
    BAD(IMAPURL_EINVAL, "imap://@h/");
    BAD(IMAPURL_EINVAL, "imap://u@/");
    BAD(IMAPURL_EINVAL, "imap://u;AUTH=@h/");
    BAD(IMAPURL_EINVAL, "imap://u;AUTH=%2A@h/"); /* section 3.2: "*" unescaped */
    BAD(IMAPURL_EINVAL, "imap://u;AUTHX=PLAIN@h/");
    BAD(IMAPURL_EINVAL, "imap://u;AUTH=a.b@h/");
    BAD(IMAPURL_EINVAL, "imap://u;AUTH=ABCDEFGHIJKLMNOPQRSTU@h/");
    BAD(IMAPURL_EINVAL, "imap://u;AUTH=PLAIN;AUTH=LOGIN@h/");
    BAD(IMAPURL_EINVAL, "imap://u;x@h/");
    /* Paths. */
    BAD(IMAPURL_EINVAL, "imap://h/;UID=1");
    BAD(IMAPURL_EINVAL, "imap://h//;UID=1");
    BAD(IMAPURL_EINVAL, "imap://h/m;UID=1");
    BAD(IMAPURL_EINVAL, "imap://h/m;FOO=1");
    BAD(IMAPURL_EINVAL, "imap://h/m/;FOO=1");
    BAD(IMAPURL_EINVAL, "imap://h/m;UIDVALIDITY=1;UIDVALIDITY=2");
    BAD(IMAPURL_EINVAL, "imap://h/m;UIDVALIDITY=1/x");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1?SUBJECT%20x");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;UID=2");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;PARTIAL=1/;SECTION=1");
    BAD(IMAPURL_EINVAL, "imap://h/m/;SECTION=1");
    BAD(IMAPURL_EINVAL, "imap://h/m/;PARTIAL=1");
    /* Dot-segments written plainly (RFC 5092 section 7). */
    BAD(IMAPURL_EINVAL, "imap://h/.");
    BAD(IMAPURL_EINVAL, "imap://h/a/./b");
    BAD(IMAPURL_EINVAL, "imap://h/../x");
    BAD(IMAPURL_EINVAL, "imap://h/a/..");
    BAD(IMAPURL_EINVAL, "imap://h/a/../;UID=1");
    BAD(IMAPURL_EINVAL, "imap://h/a/..?ALL");
    BAD(IMAPURL_EINVAL, "imap://h/./a;UIDVALIDITY=1");
    /* Sections that are no section-spec: they would reach FETCH. */
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=1]");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=1%5D%0D%0Aa%20LOGOUT");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=0");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=1.");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=1..2");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=MIME");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=HEADERS");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=HEADER.FIELDS");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=HEADER.FIELDS%20()");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=HEADER.FIELDS%20(a%20)");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=HEADER.FIELDS%20(a:b)");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=HEADER.FIELDS%20(a)x");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1/;SECTION=1/;URLAUTH=authuser");
    /* URLAUTH. */
    BAD(IMAPURL_EINVAL, "imap://h/m;URLAUTH=authuser");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=someone");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=submit+");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=user+%FF");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser:internal");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser:internal:0123456789abcdef0123456789abcde");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser:internal:0123456789abcdef0123456789abcdeg");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser:in_ternal:0123456789abcdef0123456789abcdef");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser::0123456789abcdef0123456789abcdef");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser:a:0123456789abcdef0123456789abcdef:x");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser;x");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;EXPIRE=2026-12-02T10:00:00Z");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;EXPIRE=2026-13-02T10:00:00Z;URLAUTH=authuser");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;EXPIRE=2026-12-02;URLAUTH=authuser");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;EXPIRE=2026-12-02T10:00:00;URLAUTH=authuser");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;EXPIRE=2026-12-02T10:00:00.Z;URLAUTH=authuser");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;EXPIRE=2026-12-02T10%3A00:00Z;URLAUTH=authuser");
    BAD(IMAPURL_EINVAL, "imap://h/m/;UID=1;URLAUTH=authuser;EXPIRE=2026-12-02T10:00:00Z");
}

static void relative_refused(void)
{
    BAD(IMAPURL_ENOTSUP, "");
    BAD(IMAPURL_ENOTSUP, "/INBOX");
    BAD(IMAPURL_ENOTSUP, "//h/INBOX");
    BAD(IMAPURL_ENOTSUP, ";UID=20");
    BAD(IMAPURL_ENOTSUP, "INBOX");
    BAD(IMAPURL_ENOTSUP, "..;UIDVALIDITY=385759045/;UID=20");
    struct imapurl u;
    CHECK_INT(imapurl_parse(&u, NULL, buf, sizeof buf), IMAPURL_EINVAL);
    CHECK_INT(imapurl_parse(NULL, "imap://h/", buf, sizeof buf), IMAPURL_EINVAL);
}

static size_t len0(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* The bytes imapurl_parse needs in its buffer for the fields of u. */
static size_t needed(const struct imapurl *u)
{
    return len0(u->user) + len0(u->auth) + len0(u->host) + len0(u->mailbox) +
           len0(u->mailbox_utf8) + len0(u->search) + len0(u->section) +
           len0(u->urlauth.expire) + len0(u->urlauth.access) + len0(u->urlauth.mech) +
           len0(u->urlauth.token);
}

static void parse_buffer_edges(void)
{
    static const char *const urls[] = {
        "imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E5%8F%B0%E5%8C%97",
        ("imap://joe;AUTH=*@example.com/INBOX/;uid=20/;section=1.2;urlauth="
         "submit+fred:internal:91354a473744909de610943775f92038"),
        "imap://h/&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&",
        "imap://h/%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01%01",
        "imap://h/%01&%01&%01&%01&%01&%01&%01&%01&%01&%01&%01&%01&",
        "imap://h/%F0%9F%98%80%01%F0%9F%98%80?%01",
        "imap://[::1]/",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct imapurl u, v;
        char small[512];
        CHECK_INT(parse(&u, urls[i]), 0);
        size_t need = needed(&u);
        CHECK(need <= IMAPURL_BUFSIZE(strlen(urls[i])));
        CHECK_INT(imapurl_parse(&v, urls[i], small, need), 0);
        CHECK(same_url(&u, &v));
        CHECK_INT(imapurl_parse(&v, urls[i], small, need - 1), IMAPURL_ENOSPC);
        CHECK(is_zero(&v));
        CHECK_INT(imapurl_parse(&v, urls[i], NULL, 0), IMAPURL_ENOSPC);
    }
}

static void build_buffer_edges(void)
{
    struct imapurl u;
    const char *s = "imap://psicorp.example.org/~peter/%E5%8F%B0%E5%8C%97;UIDVALIDITY=9";
    size_t len = strlen(s), n;
    char out[128];
    CHECK_INT(parse(&u, s), 0);
    CHECK_INT(imapurl_build(&u, out, len + 1, &n), 0);
    CHECK_STR(out, s);
    CHECK_INT(n, len);
    memset(out, 'x', sizeof out);
    CHECK_INT(imapurl_build(&u, out, len, &n), IMAPURL_ENOSPC);
    CHECK_INT(n, len);
    CHECK_STR(out, "");
    CHECK_INT(imapurl_build(&u, NULL, 0, &n), IMAPURL_ENOSPC);
    CHECK_INT(n, len);
}

#define BUILD_BAD(code, url)                                                   \
    do {                                                                       \
        char out_[256] = "x";                                                  \
        size_t n_ = 99;                                                        \
        CHECK_INT(imapurl_build(&(url), out_, sizeof out_, &n_), code);        \
        CHECK_STR(out_, "");                                                   \
        CHECK_INT(n_, 0);                                                      \
    } while (0)

static void build_refusals(void)
{
    struct imapurl z = { 0 }, u;
    CHECK_INT(imapurl_build(NULL, NULL, 0, NULL), IMAPURL_EINVAL);
    BUILD_BAD(IMAPURL_EINVAL, z);                     /* no host */
    u = z, u.host = "";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "a:b";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "a\nb";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.port = 65536;
    BUILD_BAD(IMAPURL_ERANGE, u);
    u = z, u.host = "h", u.user = "";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.user = "\xff";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.auth = "NOT VALID";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "&AGE-";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "a\xc3\xa4";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.uid = 5;
    BUILD_BAD(IMAPURL_EINVAL, u);                     /* a UID needs a mailbox */
    u = z, u.host = "h", u.uidvalidity = 5;
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "m", u.section = "1";
    BUILD_BAD(IMAPURL_EINVAL, u);                     /* a section needs a UID */
    u = z, u.host = "h", u.mailbox = "m", u.has_partial = 1;
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "m", u.uid = 1, u.octet_count = 5;
    BUILD_BAD(IMAPURL_EINVAL, u);                     /* partial fields, no flag */
    u = z, u.host = "h", u.mailbox = "m", u.uid = 1, u.search = "ALL";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "m", u.search = "";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "m", u.uid = 1, u.section = "1]";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "m", u.uid = 1, u.urlauth.access = "authuser",
    u.urlauth.mech = "internal";
    BUILD_BAD(IMAPURL_EINVAL, u);                     /* mech without token */
    u = z, u.host = "h", u.mailbox = "m", u.urlauth.access = "authuser";
    BUILD_BAD(IMAPURL_EINVAL, u);
    u = z, u.host = "h", u.mailbox = "m", u.uid = 1, u.urlauth.expire = "2026-12-02T10:00:00Z";
    BUILD_BAD(IMAPURL_EINVAL, u);
    if (sizeof(unsigned long) > 4) {
        u = z, u.host = "h", u.mailbox = "m", u.uid = 4294967296UL;
        BUILD_BAD(IMAPURL_ERANGE, u);
        u = z, u.host = "h", u.mailbox = "m", u.uid = 1, u.has_partial = 1,
        u.start_octet = 4294967296UL;
        BUILD_BAD(IMAPURL_ERANGE, u);
    }
}

/* Built from fields, parsed back: the same fields. */
static void build_parse_round_trip(void)
{
    struct imapurl u = { 0 }, v;
    char out[512];
    u.user = "J\xc3\xb6rg Ma\xc3\x9f";
    u.auth = "*";
    u.host = "::1";
    u.port = 993;
    u.mailbox = "Ordner/&AOQ-/&-/ ;?#%";
    u.mailbox_utf8 = "Ordner/\xc3\xa4/&/ ;?#%";
    u.uidvalidity = 1;
    u.uid = 4294967295UL;
    u.section = "4.2.HEADER.FIELDS (From Message-ID)";
    u.has_partial = 1;
    u.octet_count = 1;
    u.urlauth.expire = "2026-12-02T23:59:60-00:00";
    u.urlauth.access = "SUBMIT+a b";
    u.urlauth.mech = "INTERNAL";
    u.urlauth.token = "00000000000000000000000000000000ff";
    CHECK_INT(imapurl_build(&u, out, sizeof out, NULL), 0);
    CHECK_INT(parse(&v, out), 0);
    CHECK(same_url(&u, &v));
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(rfc5092_partial_example), TEST(rfc5092_international_example),
        TEST(rfc5092_auth_examples), TEST(rfc5092_urlauth_example), TEST(server_urls),
        TEST(ipv6_hosts), TEST(build_escapes), TEST(build_from_utf8),
        TEST(keywords_any_case), TEST(numbers), TEST(malformed), TEST(relative_refused),
        TEST(parse_buffer_edges), TEST(build_buffer_edges), TEST(build_refusals),
        TEST(build_parse_round_trip),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
