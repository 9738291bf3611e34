/*
 * What imcli does with the library's trace: the transcript on the screen
 * and in the --trace file, and the tag of the command just sent, which the
 * JSON output of its tagged reply names (a finish callback is not told its
 * tag).
 */
#ifndef IMCLI_TRACE_H
#define IMCLI_TRACE_H

#include "transcript.h"

struct imclient;

struct imcli_trace {
    struct imcli_transcript screen; /* stdout, unless --json or --fetch */
    struct imcli_transcript file;   /* --trace FILE */
    int want_tag;                   /* the next bytes written start a command */
    char tag[24];                   /* its tag, "" if not seen */
};

/* The procedure for imclient_settrace(), with a struct imcli_trace as rock. */
void imcli_trace_proc(struct imclient *c, void *rock, int direction, const char *data,
                      size_t len);
/* Call right before imclient_send(): the tag is taken from what it writes. */
void imcli_trace_expect_command(struct imcli_trace *t);
void imcli_trace_end(struct imcli_trace *t);

#endif
