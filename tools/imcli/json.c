#include "json.h"

#include <string.h>

#include <cyrus/imclient.h>
#include <cyrus/imparse.h>

#include "utf8.h"

/* The bytes of a well-formed UTF-8 string, escaped for JSON; raw quoted
 * strings lose their IMAP backslashes on the way. */
static void put_chars(FILE *out, const char *s, size_t len, int imap_quoted)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        if (imap_quoted && b == '\\' && i + 1 < len)
            b = (unsigned char)s[++i];
        if (b == '"' || b == '\\')
            fprintf(out, "\\%c", b);
        else if (b == '\n')
            fputs("\\n", out);
        else if (b == '\r')
            fputs("\\r", out);
        else if (b == '\t')
            fputs("\\t", out);
        else if (b < 0x20)
            fprintf(out, "\\u%04x", b);
        else
            fputc(b, out);
    }
    fputc('"', out);
}

/* Base64 written as the bytes come, three at a time. */
struct b64 {
    FILE *out;
    unsigned char group[3];
    size_t n;
};

static void b64_flush(struct b64 *b)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (b->n == 0)
        return;
    unsigned long v = (unsigned long)b->group[0] << 16;
    if (b->n > 1)
        v |= (unsigned long)b->group[1] << 8;
    if (b->n > 2)
        v |= b->group[2];
    fputc(digits[(v >> 18) & 63], b->out);
    fputc(digits[(v >> 12) & 63], b->out);
    fputc(b->n > 1 ? digits[(v >> 6) & 63] : '=', b->out);
    fputc(b->n > 2 ? digits[v & 63] : '=', b->out);
    b->n = 0;
}

static void b64_byte(struct b64 *b, unsigned char byte)
{
    b->group[b->n++] = byte;
    if (b->n == 3)
        b64_flush(b);
}

/* "key":"..." for a well-formed UTF-8 string, else "key_b64":"..." with
 * the string's own bytes (a quoted string's without its backslashes), so
 * any byte survives. */
static void put_value(FILE *out, const char *key, const char *key_b64, const char *s,
                      size_t len, int imap_quoted)
{
    if (imcli_utf8_valid((const unsigned char *)s, len)) {
        fprintf(out, "\"%s\":", key);
        put_chars(out, s, len, imap_quoted);
        return;
    }
    fprintf(out, "\"%s\":\"", key_b64);
    struct b64 b = { out, { 0 }, 0 };
    for (size_t i = 0; i < len; i++)
        b64_byte(&b, (unsigned char)(imap_quoted && s[i] == '\\' && i + 1 < len ? s[++i] : s[i]));
    b64_flush(&b);
    fputc('"', out);
}

#define VALUE "value", "base64"
#define TEXT "text", "text_base64"

static void put_token(FILE *out, const struct imparse_token *t)
{
    switch (t->type) {
    case IMPARSE_ATOM:
        fputs("{\"type\":\"atom\",", out);
        put_value(out, VALUE, t->data, t->len, 0);
        break;
    case IMPARSE_NUMBER:
        fprintf(out, "{\"type\":\"number\",\"value\":%llu", (unsigned long long)t->number);
        break;
    case IMPARSE_QUOTED:
        fputs("{\"type\":\"string\",", out);
        put_value(out, VALUE, t->data, t->len, 1);
        break;
    case IMPARSE_LITERAL:
    case IMPARSE_LITERAL8:
        fprintf(out, "{\"type\":\"%s\",\"size\":%zu,",
                t->type == IMPARSE_LITERAL ? "literal" : "literal8", t->len);
        put_value(out, VALUE, t->data, t->len, 0);
        break;
    case IMPARSE_NIL:
        fputs("{\"type\":\"nil\"", out);
        break;
    default:
        return;
    }
    fputc('}', out);
}

/* Writes the tokens of p as JSON array items, nesting lists and codes;
 * comma: the array already holds an item.  Returns the tokenizer's error,
 * 0 when the input ended cleanly. */
static int put_tokens(FILE *out, struct imparse *p, int comma)
{
    int first[IMPARSE_MAX_DEPTH + 1];
    unsigned depth = 0;
    first[0] = !comma;
    struct imparse_token t;
    int r;
    while ((r = imparse_next(p, &t)) == 0 && t.type != IMPARSE_END) {
        if (t.type == IMPARSE_LIST_CLOSE || t.type == IMPARSE_CODE_CLOSE) {
            fputs("]}", out);
            depth--;
            continue;
        }
        if (!first[depth])
            fputc(',', out);
        first[depth] = 0;
        if (t.type == IMPARSE_LIST_OPEN || t.type == IMPARSE_CODE_OPEN) {
            fprintf(out, "{\"type\":\"%s\",\"items\":[",
                    t.type == IMPARSE_LIST_OPEN ? "list" : "code");
            first[++depth] = 1;
        } else
            put_token(out, &t);
    }
    /* Close what an error left open, so the line stays valid JSON. */
    for (; depth > 0; depth--)
        fputs("]}", out);
    return r;
}

/* After the tokens: where and why tokenizing stopped, and the raw text. */
static void put_error(FILE *out, const struct imparse *p, const struct imclient_reply *r)
{
    size_t pos = 0;
    int err = imparse_error(p, &pos);
    fprintf(out, ",\"error\":{\"reason\":\"%s\",\"offset\":%zu},",
            imparse_strerror(err), pos);
    put_value(out, TEXT, r->text, r->textlen, 0);
}

/* Status responses: an optional [code], typed, then text for people. */
static void put_status(FILE *out, const struct imclient_reply *r)
{
    struct imparse_code code;
    size_t errpos = 0;
    fputs("\"tokens\":[", out);
    if (imparse_code(r->text, r->textlen, &code, &errpos) != 1) {
        fputs("],", out);
        put_value(out, TEXT, r->text, r->textlen, 0);
        return;
    }
    fputs("{\"type\":\"code\",\"items\":[{\"type\":\"atom\",", out);
    put_value(out, VALUE, code.name.data, code.name.len, 0);
    fputc('}', out);
    struct imparse p;
    imparse_init_span(&p, &code.data, IMPARSE_DEFAULT_DEPTH);
    int err = put_tokens(out, &p, 1);
    fputs("]}]", out);
    if (err < 0) {
        put_error(out, &p, r);
        return;
    }
    fputc(',', out);
    put_value(out, TEXT, code.text.data, code.text.len, 0);
}

static void put_data(FILE *out, const struct imclient_reply *r)
{
    struct imparse p;
    imparse_init(&p, r->text, r->textlen, IMPARSE_DEFAULT_DEPTH);
    fputs("\"tokens\":[", out);
    int err = put_tokens(out, &p, 0);
    fputc(']', out);
    if (err < 0)
        put_error(out, &p, r);
}

static int is_status(const char *keyword)
{
    static const char *const status[] = { "OK", "NO", "BAD", "BYE", "PREAUTH", "EOF" };
    for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
        if (strcmp(keyword, status[i]) == 0)
            return 1;
    return 0;
}

void imcli_json_reply(FILE *out, const char *type, const char *tag,
                      const struct imclient_reply *r)
{
    fprintf(out, "{\"type\":\"%s\"", type);
    if (tag && *tag)
        fprintf(out, ",\"tag\":\"%s\"", tag);
    if (r->msgno >= 0)
        fprintf(out, ",\"number\":%ld", r->msgno);
    fputc(',', out);
    put_value(out, "keyword", "keyword_base64", r->keyword, strlen(r->keyword), 0);
    fputc(',', out);
    if (strcmp(type, "continuation") == 0) {
        fputs("\"tokens\":[],", out);
        put_value(out, TEXT, r->text, r->textlen, 0);
    } else if (is_status(r->keyword))
        put_status(out, r);
    else
        put_data(out, r);
    fputs("}\n", out);
    fflush(out);
}
