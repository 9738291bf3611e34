/* BODYSTRUCTURE as Dovecot and Cyrus send it: nested multiparts,
 * attachments with disposition and filename, message/rfc822 with its
 * envelope and body, extension data; bounds and truncation. */
#include <stdlib.h>

#include "check.h"
#include <cyrus/imparse.h>

#define S(lit) lit, sizeof lit - 1
#define STR(s, want) CHECK_BYTES((s).data, (s).len, want)

static char *exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

static int parse(const char *text, size_t len, struct imparse_body *nodes, size_t max,
                 size_t *count, size_t *pos)
{
    struct imparse_span v = { text, 0, len };
    return imparse_bodystructure(&v, nodes, max, count, pos);
}

/* Dovecot 2.3: lower case, multipart/mixed holding multipart/alternative
 * (text/plain + text/html) and a PDF attachment. */
static const char dovecot[] =
    "((((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 1234 42 NIL NIL NIL NIL)"
    "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 5678 90 NIL NIL NIL NIL)"
    " \"alternative\" (\"boundary\" \"=_alt\") NIL NIL NIL)"
    "(\"application\" \"pdf\" (\"name\" \"report.pdf\") NIL NIL \"base64\" 40960 NIL "
    "(\"attachment\" (\"filename\" \"report.pdf\" \"size\" \"29930\")) NIL NIL)"
    " \"mixed\" (\"boundary\" \"=_mix\") NIL NIL NIL))";

static void dovecot_mixed_alternative_attachment(void)
{
    struct imparse_body n[8];
    size_t count, pos;
    /* the reply's value starts after "BODYSTRUCTURE ": strip the outer ( ) */
    CHECK_INT(parse(dovecot + 1, sizeof dovecot - 3, n, 8, &count, &pos), 0);
    CHECK_INT(count, 5);
    CHECK(n[0].multipart && n[0].parent == -1 && n[0].first_child == 1);
    STR(n[0].subtype, "mixed");
    struct imparse_str v;
    CHECK_INT(imparse_param_get(&n[0].params, "BOUNDARY", &v), 1);
    STR(v, "=_mix");
    CHECK(n[1].multipart && n[1].parent == 0 && n[1].depth == 1 && n[1].next_sibling == 4);
    STR(n[1].subtype, "alternative");
    CHECK(!n[2].multipart && n[2].parent == 1 && n[2].next_sibling == 3 && n[2].depth == 2);
    STR(n[2].type, "text");
    STR(n[2].subtype, "plain");
    CHECK_INT(imparse_param_get(&n[2].params, "charset", &v), 1);
    STR(v, "utf-8");
    STR(n[2].encoding, "quoted-printable");
    CHECK(n[2].id.type == IMPARSE_NIL && n[2].description.type == IMPARSE_NIL);
    CHECK(n[2].size == 1234 && n[2].has_lines && n[2].lines == 42);
    CHECK(n[2].md5.type == IMPARSE_NIL && n[2].disposition.type == IMPARSE_NIL);
    STR(n[3].subtype, "html");
    CHECK(n[3].next_sibling == -1 && n[3].lines == 90);
    STR(n[4].type, "application");
    CHECK(!n[4].has_lines && n[4].size == 40960 && n[4].next_sibling == -1);
    STR(n[4].disposition, "attachment");
    CHECK_INT(imparse_param_get(&n[4].disposition_params, "FILENAME", &v), 1);
    STR(v, "report.pdf");
    CHECK_INT(imparse_param_get(&n[4].disposition_params, "creation-date", &v), 0);
    CHECK_BYTES(n[4].extension.base + n[4].extension.start,
                n[4].extension.end - n[4].extension.start,
                "NIL (\"attachment\" (\"filename\" \"report.pdf\" \"size\" \"29930\")) NIL NIL");
    /* the same through the FETCH iterator */
    static const char fetch[] = "(UID 1 BODYSTRUCTURE (((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)"
                                "(\"text\" \"html\" NIL NIL NIL \"7bit\" 1 1) \"alternative\")"
                                "(\"image\" \"png\" NIL NIL NIL \"base64\" 9) \"mixed\"))";
    struct imparse_fetch f;
    struct imparse_fetch_item it;
    CHECK_INT(imparse_fetch_begin(&f, S(fetch)), 0);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_BODYSTRUCTURE);
    CHECK_INT(imparse_bodystructure(&it.value, n, 8, &count, &pos), 0);
    CHECK_INT(count, 5);
    CHECK(n[0].params.start == n[0].params.end && n[0].extension.start == 0);
    CHECK_INT(imparse_fetch_next(&f, &it), 0);
}

/* Cyrus imapd 3.6: upper case, a forwarded message/rfc822 with its own
 * envelope and multipart body, language and location extensions. */
static const char cyrus[] =
    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 152 4 NIL NIL NIL NIL)"
    "(\"MESSAGE\" \"RFC822\" (\"NAME\" \"fwd.eml\") NIL \"Forwarded\" \"7BIT\" 2048 "
    "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"=?UTF-8?Q?caf=C3=A9?=\" "
    "((\"Fred\" NIL \"fred\" \"example.com\")) ((\"Fred\" NIL \"fred\" \"example.com\")) "
    "((\"Fred\" NIL \"fred\" \"example.com\")) ((NIL NIL \"joe\" \"example.org\")) NIL NIL NIL "
    "\"<B27397-0100000@example.com>\") "
    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL)"
    "(\"TEXT\" \"HTML\" (\"CHARSET\" \"US-ASCII\") \"<part@x>\" NIL \"7BIT\" 20 2 NIL NIL NIL NIL)"
    " \"ALTERNATIVE\" (\"BOUNDARY\" \"b2\") NIL NIL NIL) 61 "
    "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"INLINE\" NIL) (\"EN\" \"DE\") \"http://x/y\" 1 (2 \"z\"))"
    " \"MIXED\" (\"BOUNDARY\" \"b1\") NIL \"EN\")";

static void cyrus_nested_message(void)
{
    struct imparse_body n[8];
    size_t count, pos;
    CHECK_INT(parse(S(cyrus), n, 8, &count, &pos), 0);
    CHECK_INT(count, 6);
    STR(n[0].subtype, "MIXED");
    CHECK(n[0].language.end > n[0].language.start);
    CHECK(n[0].location.type == IMPARSE_NIL);
    struct imparse_body *m = &n[2];
    CHECK(m->parent == 0 && m->has_envelope && m->first_child == 3);
    STR(m->type, "MESSAGE");
    STR(m->description, "Forwarded");
    CHECK(m->size == 2048 && m->has_lines && m->lines == 61);
    STR(m->envelope.subject, "=?UTF-8?Q?caf=C3=A9?=");
    STR(m->envelope.message_id, "<B27397-0100000@example.com>");
    struct imparse_iter ai;
    struct imparse_address a;
    struct imparse_str lang;
    imparse_addresses_begin(&ai, &m->envelope.to);
    CHECK_INT(imparse_addresses_next(&ai, &a), 1);
    STR(a.mailbox, "joe");
    STR(m->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
    STR(m->disposition, "INLINE");
    CHECK_BYTES(m->disposition_params.base + m->disposition_params.start,
                m->disposition_params.end - m->disposition_params.start, "NIL");
    CHECK_INT(imparse_param_get(&m->disposition_params, "filename", &lang), 0);
    STR(m->location, "http://x/y");
    struct imparse_iter li;
    imparse_iter_begin(&li, &m->language);
    CHECK_INT(imparse_iter_next(&li, &lang), 1);
    STR(lang, "EN");
    CHECK_INT(imparse_iter_next(&li, &lang), 1);
    STR(lang, "DE");
    CHECK_INT(imparse_iter_next(&li, &lang), 0);
    CHECK(n[3].multipart && n[3].parent == 2 && n[3].depth == 2);
    STR(n[5].id, "<part@x>");
    CHECK(n[5].parent == 3 && n[5].depth == 3);
}

static void bounds_and_counting(void)
{
    struct imparse_body n[8];
    size_t count, pos;
    CHECK_INT(parse(S(cyrus), n, 5, &count, &pos), IMPARSE_ETOOMANY);
    CHECK_INT(parse(S(cyrus), n, 0, &count, &pos), IMPARSE_ETOOMANY);
    CHECK_INT(parse(S(cyrus), NULL, 0, &count, &pos), 0);
    CHECK_INT(count, 6);
    /* deep nesting: each level costs one parenthesis */
    char deep[4096];
    size_t len = 0;
    for (int i = 0; i < 70; i++)
        deep[len++] = '(';
    len += (size_t)sprintf(deep + len, "\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)");
    for (int i = 0; i < 69; i++)
        len += (size_t)sprintf(deep + len, " \"mixed\")");
    CHECK_INT(parse(deep, len, NULL, 0, &count, &pos), 0);
    CHECK_INT(count, 70);
    char deeper[8192];
    size_t dlen = 0;
    for (int i = 0; i < IMPARSE_MAX_DEPTH + 1; i++)
        deeper[dlen++] = '(';
    dlen += (size_t)sprintf(deeper + dlen, "\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)");
    for (int i = 0; i < IMPARSE_MAX_DEPTH; i++)
        dlen += (size_t)sprintf(deeper + dlen, " \"mixed\")");
    CHECK_INT(parse(deeper, dlen, NULL, 0, &count, &pos), IMPARSE_EDEPTH);
    CHECK_INT(pos, IMPARSE_MAX_DEPTH);
}

static void malformed(void)
{
    struct imparse_body n[4];
    size_t count, pos;
    /* a TEXT part without its line count (body-type-text) */
    CHECK_INT(parse(S("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1)"), n, 4, &count, &pos),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 36);
    CHECK_INT(parse(S("(\"text\" \"plain\" (\"a\") NIL NIL \"7bit\" 1 1)"), n, 4, &count, &pos),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(parse(S("(\"image\" \"png\" \"a\" NIL NIL \"7bit\" 1)"), n, 4, &count, &pos),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(parse(S("(\"image\" \"png\" NIL NIL NIL \"7bit\" x)"), n, 4, &count, &pos),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(parse(S("(\"image\" \"png\" NIL NIL NIL \"7bit\" 1 NIL \"inline\")"), n, 4,
                    &count, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(parse(S("(\"image\" \"png\" NIL NIL NIL \"7bit\" 1) x"), n, 4, &count, &pos),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(parse(S("((\"image\" \"png\" NIL NIL NIL \"7bit\" 1))"), n, 4, &count, &pos),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(parse(S("NIL"), n, 4, &count, &pos), IMPARSE_EUNEXPECTED);
    /* message/rfc822 without the envelope is read as a basic part */
    CHECK_INT(parse(S("(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 1)"), n, 4, &count, &pos), 0);
    CHECK(!n[0].has_envelope && count == 1);
    /* NIL everywhere the grammar allows it */
    CHECK_INT(parse(S("(NIL NIL NIL NIL NIL NIL 0 NIL NIL NIL NIL)"), n, 4, &count, &pos), 0);
    CHECK_INT(parse(S("((NIL NIL NIL NIL NIL NIL 0) NIL NIL NIL NIL NIL)"), n, 4, &count, &pos), 0);
}

static void truncated_at_every_byte(void)
{
    struct imparse_body n[8];
    size_t count, pos;
    for (size_t k = 0; k < 2; k++) {
        const char *s = k ? cyrus : dovecot + 1;
        size_t len = k ? sizeof cyrus - 1 : sizeof dovecot - 3;
        for (size_t i = 0; i < len; i++) {
            char *c = exact(s, i);
            int r = parse(c, i, n, 8, &count, &pos);
            free(c);
            if (r >= 0 || pos > i)
                check_fail(__FILE__, __LINE__, "%zu prefix %zu: r=%d pos=%zu", k, i, r, pos);
            CHECK(r < 0 && pos <= i);
        }
    }
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(dovecot_mixed_alternative_attachment), TEST(cyrus_nested_message),
        TEST(bounds_and_counting), TEST(malformed), TEST(truncated_at_every_byte),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
