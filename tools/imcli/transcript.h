/*
 * The readable transcript: every line the client writes as "C: ..." and
 * every line it reads as "S: ...", from the library's trace, which already
 * shows passwords and AUTHENTICATE responses as [redacted].  Bytes that
 * could drive a terminal (controls, escape sequences, malformed UTF-8) are
 * shown as \xNN, so a hostile server cannot rewrite the screen.  Memory is
 * bounded: pieces are written as they come, however long the line.
 */
#ifndef IMCLI_TRANSCRIPT_H
#define IMCLI_TRANSCRIPT_H

#include <stddef.h>
#include <stdio.h>

struct imcli_transcript {
    FILE *out;            /* NULL: this transcript is off */
    int dir;              /* direction of the open line, 0 at a line start */
    int pending_cr;       /* a CR that may end the line */
    unsigned char partial[4]; /* a UTF-8 sequence split between pieces */
    size_t npartial;
};

void imcli_transcript_write(struct imcli_transcript *t, int direction,
                            const char *data, size_t len);
/* Ends a half-written line, e.g. before the program exits. */
void imcli_transcript_end(struct imcli_transcript *t);

#endif
