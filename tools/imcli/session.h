/*
 * A session: the connection, how its responses are shown (transcript or
 * JSON), and commands run one at a time, each waited for to the end.
 */
#ifndef IMCLI_SESSION_H
#define IMCLI_SESSION_H

#include <stdio.h>

#include <cyrus/imclient.h>

#include "trace.h"

struct imcli_options;

struct imcli_session {
    struct imclient *c;
    const struct imcli_options *o;
    struct imcli_trace trace;
    FILE *json;      /* stdout with --json, else NULL */
    FILE *trace_out; /* the --trace file */
    int done;        /* the command being waited for has ended */
    int result;      /* how: enum imcli_result */
    int logged_out;  /* the user's LOGOUT succeeded */
    char status[160]; /* the status and text of the last reply, made safe */
};

/* How a command ended. */
enum imcli_result {
    IMCLI_RESULT_OK,
    IMCLI_RESULT_REFUSED, /* NO or BAD */
    IMCLI_RESULT_EOF,     /* the connection ended first */
};

/* Sets up the output (transcript, --trace file, JSON) before connecting.
 * Returns an exit code, IMCLI_EXIT_OK to go on. */
int imcli_session_init(struct imcli_session *s, const struct imcli_options *o);
/* Once connected: the trace and the JSON callbacks. */
void imcli_session_attach(struct imcli_session *s, struct imclient *c);
void imcli_session_end(struct imcli_session *s);

/* imclient_send with a format and its arguments, waiting for the tagged
 * reply; evaluates to an enum imcli_result. */
#define imcli_session_run(s, ...)                                              \
    (imcli_session_begin(s),                                                   \
     imclient_send((s)->c, imcli_session_finished, (s), __VA_ARGS__),          \
     imcli_session_wait(s))
void imcli_session_begin(struct imcli_session *s);
void imcli_session_finished(struct imclient *c, void *rock, struct imclient_reply *r);
enum imcli_result imcli_session_wait(struct imcli_session *s);

/* A command line as the user wrote it (see userline.h); a refused one
 * counts as REFUSED after saying why on stderr. */
enum imcli_result imcli_session_run_line(struct imcli_session *s, const char *line,
                                         size_t len);

/* Commands from argv, stdin or the terminal, then LOGOUT.  Returns the
 * exit code. */
int imcli_session_commands(struct imcli_session *s);

#endif
