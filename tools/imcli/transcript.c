#include "transcript.h"

#include "utf8.h"

static void put_escaped(FILE *out, unsigned char b)
{
    fprintf(out, "\\x%02X", b);
}

/* Ends the open line, showing a CR that turned out not to end it. */
void imcli_transcript_end(struct imcli_transcript *t)
{
    if (!t->out)
        return;
    for (size_t i = 0; i < t->npartial; i++)
        put_escaped(t->out, t->partial[i]);
    t->npartial = 0;
    if (t->pending_cr)
        put_escaped(t->out, '\r');
    t->pending_cr = 0;
    if (t->dir)
        fputc('\n', t->out);
    t->dir = 0;
    fflush(t->out);
}

static void start_line(struct imcli_transcript *t, int direction)
{
    if (t->dir == direction)
        return;
    imcli_transcript_end(t);
    fprintf(t->out, "%c: ", direction);
    t->dir = direction;
}

/* One byte or sequence at p: printable text as it is, anything else escaped. */
static size_t put_text(struct imcli_transcript *t, const unsigned char *p, size_t n)
{
    if (p[0] >= 0x20 && p[0] < 0x7f) {
        fputc(p[0], t->out);
        return 1;
    }
    if (p[0] == '\t') {
        fputc('\t', t->out);
        return 1;
    }
    int k = p[0] >= 0x80 ? imcli_utf8_seq(p, n) : 0;
    /* C1 controls (U+0080..U+009F) act as escape sequences on some terminals. */
    if (k > 1 && !(p[0] == 0xc2 && p[1] < 0xa0)) {
        fwrite(p, 1, (size_t)k, t->out);
        return (size_t)k;
    }
    put_escaped(t->out, p[0]);
    return 1;
}

static void feed(struct imcli_transcript *t, int direction, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (t->pending_cr) {
            t->pending_cr = 0;
            if (p[i] == '\n') {
                t->dir = direction; /* the line is open: end it */
                fputc('\n', t->out);
                t->dir = 0;
                i++;
                continue;
            }
            put_escaped(t->out, '\r');
        }
        start_line(t, direction);
        if (p[i] == '\r') {
            t->pending_cr = 1;
            i++;
        } else if (p[i] == '\n') {
            fputc('\n', t->out);
            t->dir = 0;
            i++;
        } else if (p[i] >= 0x80 && imcli_utf8_seq(p + i, n - i) < 0) {
            /* The rest of this sequence comes with the next piece. */
            for (; i < n; i++)
                t->partial[t->npartial++] = p[i];
        } else
            i += put_text(t, p + i, n - i);
    }
}

void imcli_transcript_write(struct imcli_transcript *t, int direction, const char *data,
                            size_t len)
{
    if (!t->out || len == 0)
        return;
    const unsigned char *p = (const unsigned char *)data;
    if (t->dir && t->dir != direction)
        imcli_transcript_end(t);
    /* Complete a sequence split across pieces before going on. */
    while (t->npartial > 0 && len > 0) {
        t->partial[t->npartial++] = *p++;
        len--;
        int k = imcli_utf8_seq(t->partial, t->npartial);
        if (k < 0 && t->npartial < sizeof t->partial)
            continue;
        unsigned char held[4];
        size_t nheld = t->npartial;
        for (size_t i = 0; i < nheld; i++)
            held[i] = t->partial[i];
        t->npartial = 0;
        /* Either the whole sequence, or its first byte escaped and the
         * rest fed again. */
        size_t used = put_text(t, held, nheld);
        feed(t, direction, held + used, nheld - used);
    }
    feed(t, direction, p, len);
    fflush(t->out);
}
