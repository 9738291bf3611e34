/*
 * The interactive session on a terminal: a prompt with line editing and
 * history (libedit), one command at a time.  Responses that arrive
 * between commands are shown when the next command runs (NOOP asks for
 * them).  Errors of single commands do not end it; end of input (^D),
 * LOGOUT or a lost connection do.
 */
#ifndef IMCLI_INTERACTIVE_H
#define IMCLI_INTERACTIVE_H

struct imcli_session;

/* Returns the exit code: IMCLI_EXIT_OK, or IMCLI_EXIT_LOST. */
int imcli_interactive(struct imcli_session *s);

#endif
