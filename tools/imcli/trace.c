#include "trace.h"

#include <string.h>

void imcli_trace_expect_command(struct imcli_trace *t)
{
    t->want_tag = 1;
    t->tag[0] = '\0';
}

/* Commands are sent one at a time and each is written from its start, so
 * the first bytes the client writes after a send are "<tag> ". */
static void take_tag(struct imcli_trace *t, const char *data, size_t len)
{
    size_t n = 0;
    while (n < len && n < sizeof t->tag - 1 && data[n] >= '0' && data[n] <= '9')
        n++;
    memcpy(t->tag, data, n);
    t->tag[n] = '\0';
    t->want_tag = 0;
}

void imcli_trace_proc(struct imclient *c, void *rock, int direction, const char *data,
                      size_t len)
{
    (void)c;
    struct imcli_trace *t = rock;
    if (direction == 'C' && t->want_tag && len > 0)
        take_tag(t, data, len);
    imcli_transcript_write(&t->screen, direction, data, len);
    imcli_transcript_write(&t->file, direction, data, len);
}

void imcli_trace_end(struct imcli_trace *t)
{
    imcli_transcript_end(&t->screen);
    imcli_transcript_end(&t->file);
}
