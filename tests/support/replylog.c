#include "replylog.h"

#include <stdio.h>
#include <string.h>

#include "cyrus/imclient.h"
#include "util/buf.h"

static struct imc_buf logbuf;
static int finishes;
static int escaping;

static void append_escaped(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char tmp[8];
        if (ch == '\r')
            imc_buf_appendstr(&logbuf, "\\r");
        else if (ch == '\n')
            imc_buf_appendstr(&logbuf, "\\n");
        else if (ch == '\0')
            imc_buf_appendstr(&logbuf, "\\0");
        else if (ch < ' ' || ch >= 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", ch);
            imc_buf_appendstr(&logbuf, tmp);
        } else
            imc_buf_appendc(&logbuf, (char)ch);
    }
}

void record(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    char head[128];
    snprintf(head, sizeof head, "%s|%s|%ld|", (const char *)rock, r->keyword, r->msgno);
    imc_buf_appendstr(&logbuf, head);
    if (escaping)
        append_escaped(r->text, r->textlen);
    else
        imc_buf_append(&logbuf, r->text, r->textlen);
    imc_buf_appendc(&logbuf, '\n');
}

void finished(struct imclient *c, void *rock, struct imclient_reply *r)
{
    record(c, rock, r);
    finishes++;
}

void mark(const char *what)
{
    imc_buf_appendstr(&logbuf, what);
    imc_buf_appendc(&logbuf, '\n');
}

void log_escape_text(int on)
{
    escaping = on;
}

const char *log_text(void)
{
    return imc_buf_cstr(&logbuf);
}

const char *log_bytes(size_t *len)
{
    *len = logbuf.len;
    return logbuf.data;
}

int log_ends_with(const char *tail)
{
    size_t n = strlen(tail);
    return logbuf.len >= n && memcmp(logbuf.data + logbuf.len - n, tail, n) == 0;
}

int finished_count(void)
{
    return finishes;
}

void reset(void)
{
    imc_buf_free(&logbuf);
    finishes = 0;
}

void run_until(struct imclient *c, int n)
{
    for (int i = 0; i < 10000 && finishes < n; i++)
        if (imclient_processoneevent_timeout(c, 5000) < 0)
            break;
}

struct imclient *open_logged(const char *host, const char *port)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, host, port) != 0)
        return NULL;
    imclient_addcallback(c, "", 0, record, "u", NULL);
    return c;
}
