#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cyrus/imclient.h>

#include "exitcodes.h"
#include "interactive.h"
#include "json.h"
#include "options.h"
#include "userline.h"

int imcli_session_init(struct imcli_session *s, const struct imcli_options *o)
{
    memset(s, 0, sizeof *s);
    s->o = o;
    if (o->trace_file) {
        s->trace_out = fopen(o->trace_file, "w");
        if (!s->trace_out) {
            fprintf(stderr, "imcli: --trace %s: %s\n", o->trace_file, strerror(errno));
            return IMCLI_EXIT_LOCAL;
        }
        s->trace.file.out = s->trace_out;
    }
    if (o->json)
        s->json = stdout;
    /* --fetch keeps stdout quiet unless asked for JSON. */
    else if (!o->fetch_file)
        s->trace.screen.out = stdout;
    return IMCLI_EXIT_OK;
}

static void json_untagged(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    imcli_json_reply(rock, "untagged", NULL, r);
}

static void json_continuation(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    imcli_json_reply(rock, "continuation", NULL, r);
}

void imcli_session_attach(struct imcli_session *s, struct imclient *c)
{
    s->c = c;
    imclient_settrace(c, imcli_trace_proc, &s->trace);
    if (s->json)
        imclient_addcallback(c, "", 0, json_untagged, s->json,
                             "+", 0, json_continuation, s->json, NULL);
}

void imcli_session_end(struct imcli_session *s)
{
    if (s->c)
        imclient_close(s->c);
    s->c = NULL;
    imcli_trace_end(&s->trace);
    if (s->trace_out)
        fclose(s->trace_out);
    s->trace_out = NULL;
}

void imcli_session_begin(struct imcli_session *s)
{
    s->done = 0;
    s->result = IMCLI_RESULT_EOF;
    imcli_trace_expect_command(&s->trace);
}

/* For messages on stderr: printable ASCII only, whatever the server sent. */
static void keep_status(struct imcli_session *s, const struct imclient_reply *r)
{
    snprintf(s->status, sizeof s->status, "%s %.*s", r->keyword, (int)r->textlen, r->text);
    for (char *p = s->status; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
}

void imcli_session_finished(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct imcli_session *s = rock;
    s->done = 1;
    if (strcmp(r->keyword, "OK") == 0)
        s->result = IMCLI_RESULT_OK;
    else if (strcmp(r->keyword, "EOF") == 0)
        s->result = IMCLI_RESULT_EOF;
    else
        s->result = IMCLI_RESULT_REFUSED;
    keep_status(s, r);
    if (s->json)
        imcli_json_reply(s->json, s->result == IMCLI_RESULT_EOF ? "eof" : "tagged",
                         s->trace.tag, r);
}

enum imcli_result imcli_session_wait(struct imcli_session *s)
{
    /* No timeout of our own: the library's silence limit ends a command
     * whose server went quiet, and a long FETCH may legitimately take long. */
    while (!s->done && imclient_processoneevent_timeout(s->c, -1) >= 0)
        ;
    if (!s->done)
        s->result = IMCLI_RESULT_EOF;
    return s->result;
}

static int is_logout(const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    return len == 6 && strncasecmp(line, "LOGOUT", 6) == 0;
}

enum imcli_result imcli_session_run_line(struct imcli_session *s, const char *line,
                                         size_t len)
{
    struct imcli_line l;
    imcli_line_classify(line, len, &l);
    enum imcli_result r = IMCLI_RESULT_OK;
    if (l.kind == IMCLI_LINE_REFUSED) {
        fprintf(stderr, "imcli: not sent: %s\n", l.reason);
        return IMCLI_RESULT_REFUSED;
    }
    if (l.kind == IMCLI_LINE_LOGIN) {
        r = imcli_session_run(s, "LOGIN %s %s", l.user, l.password);
        imcli_line_wipe(&l);
    } else if (l.kind == IMCLI_LINE_RAW) {
        char *fmt = imcli_line_format(line);
        if (!fmt) {
            fprintf(stderr, "imcli: out of memory\n");
            return IMCLI_RESULT_REFUSED;
        }
        r = imcli_session_run(s, fmt);
        free(fmt);
        if (r == IMCLI_RESULT_OK && is_logout(line, len))
            s->logged_out = 1;
    }
    if (r == IMCLI_RESULT_EOF)
        fprintf(stderr, "imcli: the connection ended: %s\n", imclient_error(s->c));
    return r;
}

/* Not interactive: the first command that fails ends the run, as a later
 * one usually depends on it (a STORE on what a failed SELECT did not open). */
static int exit_for(enum imcli_result r)
{
    if (r == IMCLI_RESULT_EOF)
        return IMCLI_EXIT_LOST;
    return r == IMCLI_RESULT_REFUSED ? IMCLI_EXIT_COMMAND : IMCLI_EXIT_OK;
}

static int from_arguments(struct imcli_session *s)
{
    for (char **cmd = s->o->commands; *cmd && !s->logged_out; cmd++) {
        enum imcli_result r = imcli_session_run_line(s, *cmd, strlen(*cmd));
        if (r != IMCLI_RESULT_OK)
            return exit_for(r);
    }
    return IMCLI_EXIT_OK;
}

static int from_stdin(struct imcli_session *s)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int code = IMCLI_EXIT_OK;
    while (!s->logged_out && (n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        enum imcli_result r = imcli_session_run_line(s, line, (size_t)n);
        if (r != IMCLI_RESULT_OK) {
            code = exit_for(r);
            break;
        }
    }
    /* The line may have held a LOGIN password. */
    if (line)
        explicit_bzero(line, cap);
    free(line);
    return code;
}

int imcli_session_commands(struct imcli_session *s)
{
    int code;
    if (s->o->commands[0])
        code = from_arguments(s);
    else if (isatty(STDIN_FILENO))
        code = imcli_interactive(s);
    else
        code = from_stdin(s);
    if (code != IMCLI_EXIT_LOST && !s->logged_out && imclient_isopen(s->c))
        imcli_session_run(s, "LOGOUT");
    return code;
}
