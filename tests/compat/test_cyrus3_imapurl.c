/*
 * Cyrus 3.x's imapurl_fromURL() and imapurl_toURL() (IMCLIENT_CYRUS3):
 * the fields 3.x programs read, its server form (host and port in one
 * string), relative and c-client URLs, URLAUTH's rump length and EXPIRE
 * as a time, and the strict checks of the library's parser behind them.
 */
#define IMCLIENT_CYRUS3
#include <stdlib.h>
#include <string.h>

#include <cyrus/imapurl.h>

#include "check.h"

#define STR_OR_NULL(got, want)                           \
    do {                                                 \
        if (want)                                        \
            CHECK_STR((got), (want));                    \
        else                                             \
            CHECK((got) == NULL);                        \
    } while (0)

static void message_url_fields(void)
{
    struct imapurl u;
    CHECK_INT(imapurl_fromURL(&u, "imap://fred;AUTH=*@mail.example.org:1143/INBOX/"
                                  "%E5%8F%B0%E5%8C%97;UIDVALIDITY=7/;UID=20/;SECTION=1.2/"
                                  ";PARTIAL=0.1024"),
              0);
    CHECK(u.freeme != NULL);
    CHECK_STR(u.user, "fred");
    CHECK_STR(u.auth, "*");
    CHECK_STR(u.server, "mail.example.org:1143");
    CHECK_STR(u.mailbox, "INBOX/&U,BTFw-");
    CHECK_INT(u.uidvalidity, 7);
    CHECK_INT(u.uid, 20);
    CHECK_STR(u.section, "1.2");
    CHECK_INT(u.start_octet, 0);
    CHECK_INT(u.octet_count, 1024);
    CHECK(u.urlauth.access == NULL);
    free(u.freeme);
}

static void ipv6_server_keeps_brackets(void)
{
    struct imapurl u;
    CHECK_INT(imapurl_fromURL(&u, "imap://[::1]:993/Sent"), 0);
    CHECK_STR(u.server, "[::1]:993");
    char out[256];
    imapurl_toURL(out, &u);
    CHECK_STR(out, "imap://[::1]:993/Sent");
    free(u.freeme);
}

/* The rump is what GENURLAUTH signs: the URL up to ":mech:token". */
static void urlauth_rump_and_expire(void)
{
    const char *rump = "imap://joe@example.com/INBOX/;UID=5;EXPIRE=2026-12-02T10:00:00+01:00"
                       ";URLAUTH=user+joe";
    char full[300];
    snprintf(full, sizeof full, "%s:INTERNAL:0123456789abcdef0123456789abcdef", rump);
    struct imapurl u;
    CHECK_INT(imapurl_fromURL(&u, full), 0);
    CHECK_STR(u.urlauth.access, "user+joe");
    CHECK_STR(u.urlauth.mech, "INTERNAL");
    CHECK_STR(u.urlauth.token, "0123456789abcdef0123456789abcdef");
    CHECK_INT(u.urlauth.rump_len, strlen(rump));
    /* 09:00 UTC on that day. */
    CHECK_INT(u.urlauth.expire, 1796202000);
    char out[512];
    imapurl_toURL(out, &u);
    CHECK_STR(out, "imap://joe@example.com/INBOX/;UID=5;EXPIRE=2026-12-02T09:00:00Z"
                   ";URLAUTH=user+joe:INTERNAL:0123456789abcdef0123456789abcdef");
    free(u.freeme);

    CHECK_INT(imapurl_fromURL(&u, rump), 0);
    CHECK_INT(u.urlauth.rump_len, strlen(rump));
    CHECK(u.urlauth.mech == NULL && u.urlauth.token == NULL);
    free(u.freeme);
}

static void relative_urls(void)
{
    struct imapurl u;
    CHECK_INT(imapurl_fromURL(&u, "/Drafts;UIDVALIDITY=3"), 0);
    CHECK(u.server == NULL);
    CHECK_STR(u.mailbox, "Drafts");
    CHECK_INT(u.uidvalidity, 3);
    char out[256];
    imapurl_toURL(out, &u);
    CHECK_STR(out, "/Drafts;UIDVALIDITY=3");
    free(u.freeme);

    CHECK_INT(imapurl_fromURL(&u, "Lists/%C3%A9t%C3%A9/;UID=9"), 0);
    CHECK(u.server == NULL);
    CHECK_STR(u.mailbox, "Lists/&AOk-t&AOk-");
    CHECK_INT(u.uid, 9);
    free(u.freeme);
}

static void cclient_form_taken_as_written(void)
{
    struct imapurl u;
    CHECK_INT(imapurl_fromURL(&u, "{mail.example.org:993/ssl}INBOX.Sent"), 0);
    CHECK_STR(u.server, "mail.example.org:993/ssl");
    CHECK_STR(u.mailbox, "INBOX.Sent");
    free(u.freeme);
    CHECK_INT(imapurl_fromURL(&u, "{unclosed"), -1);
    CHECK(u.freeme == NULL && u.server == NULL);
}

/* 3.x let these through; the library's parser does not, and a failure
 * leaves nothing to free. */
static void hostile_urls_refused_whole(void)
{
    static const char *const bad[] = {
        "imap://h/a%zz",                  /* not a percent escape */
        "imap://h/INBOX/;UID=1/;SECTION=1]",
        "imap://h:70000/INBOX",
        "imap://h/INBOX/;UID=99999999999",
        "imap://h/a/%2e%2e/b%00",
        "imap://h/INBOX/;UID=1;EXPIRE=tomorrow;URLAUTH=anonymous",
        "imap://h/INBOX?SUBJECT%20x",     /* 3.x's struct cannot hold a search */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct imapurl u;
        memset(&u, 0x5a, sizeof u);
        if (imapurl_fromURL(&u, bad[i]) != -1) {
            check_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
            return;
        }
        CHECK(u.freeme == NULL && u.server == NULL && u.mailbox == NULL && u.uid == 0);
    }
    struct imapurl u;
    CHECK_INT(imapurl_fromURL(&u, NULL), -1);
}

static void to_url_from_server_and_mailbox(void)
{
    struct imapurl u;
    memset(&u, 0, sizeof(struct imapurl));
    u.server = "mail.example.org";
    u.mailbox = "Archive/&ZeVnLIqe-";
    char out[300];
    imapurl_toURL(out, &u);
    CHECK_STR(out, "imap://mail.example.org/Archive/%E6%97%A5%E6%9C%AC%E8%AA%9E");
    u.server = "mail.example.org:144";
    u.user = "b c";
    imapurl_toURL(out, &u);
    CHECK_STR(out, "imap://b%20c@mail.example.org:144/Archive/%E6%97%A5%E6%9C%AC%E8%AA%9E");
}

/* Fields the builder refuses give "", which Cyrus::IMAP reads as failure. */
static void to_url_refusals_give_empty(void)
{
    struct imapurl u;
    char out[300];
    memset(&u, 0, sizeof u);
    u.server = "h:port";
    u.mailbox = "INBOX";
    strcpy(out, "junk");
    imapurl_toURL(out, &u);
    CHECK_STR(out, "");
    u.server = "h";
    u.mailbox = "not &mutf7";
    strcpy(out, "junk");
    imapurl_toURL(out, &u);
    CHECK_STR(out, "");
    u.mailbox = "INBOX";
    u.section = "1\r\nX";
    u.uid = 3;
    imapurl_toURL(out, &u);
    CHECK_STR(out, "");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(message_url_fields),
        TEST(ipv6_server_keeps_brackets),
        TEST(urlauth_rump_and_expire),
        TEST(relative_urls),
        TEST(cclient_form_taken_as_written),
        TEST(hostile_urls_refused_whole),
        TEST(to_url_from_server_and_mailbox),
        TEST(to_url_refusals_give_empty),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
