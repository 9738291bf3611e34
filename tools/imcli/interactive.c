#include "interactive.h"

#include <histedit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exitcodes.h"
#include "session.h"

static char *prompt(EditLine *el)
{
    (void)el;
    return (char *)"imcli> ";
}

/* History lives in memory only and never holds a LOGIN line, which
 * carries a password. */
static void remember(History *h, const char *line, size_t len)
{
    HistEvent ev;
    while (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        line++;
        len--;
    }
    if (len == 0 || (len >= 5 && strncasecmp(line, "LOGIN", 5) == 0))
        return;
    history(h, &ev, H_ENTER, line);
}

int imcli_interactive(struct imcli_session *s)
{
    EditLine *el = el_init("imcli", stdin, stdout, stderr);
    History *h = history_init();
    HistEvent ev;
    if (!el || !h) {
        fprintf(stderr, "imcli: cannot set up line editing\n");
        if (el)
            el_end(el);
        if (h)
            history_end(h);
        return IMCLI_EXIT_LOCAL;
    }
    history(h, &ev, H_SETSIZE, 1000);
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_HIST, history, h);
    el_source(el, NULL); /* the user's ~/.editrc, if any */

    int code = IMCLI_EXIT_OK, count;
    const char *line = "";
    while (!s->logged_out && (line = el_gets(el, &count)) != NULL) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
            len--;
        /* el_gets returns its own buffer, which the next call reuses. */
        char *copy = strndup(line, len);
        if (!copy) {
            code = IMCLI_EXIT_LOCAL;
            break;
        }
        remember(h, copy, len);
        enum imcli_result r = imcli_session_run_line(s, copy, len);
        explicit_bzero(copy, len);
        free(copy);
        if (r == IMCLI_RESULT_EOF) {
            code = IMCLI_EXIT_LOST;
            break;
        }
    }
    if (!line)
        fputc('\n', stdout);
    el_end(el);
    history_end(h);
    return code;
}
