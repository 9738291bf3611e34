#include "userline.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cyrus/imparse.h>

/* The first word, compared without case. */
static int command_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len >= n && strncasecmp(line, name, n) == 0 && (len == n || line[n] == ' ');
}

/* "{123}", "{123+}" or "~{123}" at the very end of the line. */
static int ends_in_literal(const char *line, size_t len)
{
    if (len < 3 || line[len - 1] != '}')
        return 0;
    size_t i = len - 1;
    if (line[i - 1] == '+' || line[i - 1] == '-')
        i--;
    size_t digits = 0;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') {
        i--;
        digits++;
    }
    return digits > 0 && i > 0 && line[i - 1] == '{';
}

/* One astring argument of LOGIN, unquoted into buf. */
static int take_astring(struct imparse *p, char *buf, size_t size)
{
    struct imparse_token t;
    if (imparse_next(p, &t) != 0)
        return -1;
    if (t.type != IMPARSE_ATOM && t.type != IMPARSE_NUMBER && t.type != IMPARSE_QUOTED)
        return -1;
    struct imparse_str s = imparse_token_str(&t);
    size_t len;
    return imparse_str_copy(&s, buf, size, &len) == 0 && len == strlen(buf) ? 0 : -1;
}

static void classify_login(const char *line, size_t len, struct imcli_line *out)
{
    struct imparse p;
    struct imparse_token end;
    size_t skip = len > 6 ? 6 : len;
    imparse_init(&p, line + skip, len - skip, 1);
    if (take_astring(&p, out->user, sizeof out->user) < 0 ||
        take_astring(&p, out->password, sizeof out->password) < 0 ||
        imparse_next(&p, &end) != 0 || end.type != IMPARSE_END) {
        imcli_line_wipe(out);
        out->kind = IMCLI_LINE_REFUSED;
        out->reason = "LOGIN takes a user name and a password, each an atom or a "
                      "quoted string";
        return;
    }
    out->kind = IMCLI_LINE_LOGIN;
}

void imcli_line_classify(const char *line, size_t len, struct imcli_line *out)
{
    static const char *const exchanges[] = { "STARTTLS", "AUTHENTICATE", "COMPRESS", "IDLE" };
    memset(out, 0, sizeof *out);
    out->kind = IMCLI_LINE_REFUSED;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
            out->reason = "control characters cannot be sent in a command";
            return;
        }
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0) {
        out->kind = IMCLI_LINE_EMPTY;
        return;
    }
    for (size_t i = 0; i < sizeof exchanges / sizeof exchanges[0]; i++)
        if (command_is(line, len, exchanges[i])) {
            out->reason = "STARTTLS, AUTHENTICATE, COMPRESS and IDLE cannot be typed: "
                          "use --implicit-tls/STARTTLS (the default), --sasl, or NOOP";
            return;
        }
    if (ends_in_literal(line, len)) {
        out->reason = "literals cannot be typed; write the string in double quotes";
        return;
    }
    if (command_is(line, len, "LOGIN")) {
        classify_login(line, len, out);
        return;
    }
    out->kind = IMCLI_LINE_RAW;
}

void imcli_line_wipe(struct imcli_line *l)
{
    explicit_bzero(l->user, sizeof l->user);
    explicit_bzero(l->password, sizeof l->password);
}

char *imcli_line_format(const char *line)
{
    size_t n = strlen(line), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += line[i] == '%';
    char *fmt = malloc(n + extra + 1);
    if (!fmt)
        return NULL;
    char *w = fmt;
    for (size_t i = 0; i < n; i++) {
        *w++ = line[i];
        if (line[i] == '%')
            *w++ = '%';
    }
    *w = '\0';
    return fmt;
}
