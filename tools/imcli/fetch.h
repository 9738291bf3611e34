/*
 * --fetch MAILBOX UID FILE: one message, streamed from the server's
 * literal into FILE in bounded memory (the library hands the literal over
 * in pieces), with a progress line on stderr when stderr is a terminal.
 * The mailbox is opened with EXAMINE and the body read with BODY.PEEK[],
 * so the message stays unread.  FILE appears only once complete: the
 * bytes go to a temporary file beside it that is renamed at the end.
 */
#ifndef IMCLI_FETCH_H
#define IMCLI_FETCH_H

struct imcli_session;

/* Returns the exit code. */
int imcli_fetch(struct imcli_session *s);

#endif
