/*
 * What a command the user typed may be, before it goes to the server.
 *
 * A line is sent as written (the library adds the tag), except:
 *  - a line ending in a literal ({n}, {n+}, ~{n}) is refused: the bytes
 *    that would follow cannot be typed through imclient_send, and the
 *    server would wait for them; type the string quoted instead;
 *  - STARTTLS, AUTHENTICATE, COMPRESS and IDLE are refused: each changes
 *    the stream in a way only the library's own exchange can follow (use
 *    the options, or NOOP to poll);
 *  - LOGIN is re-encoded from its two arguments (atoms or quoted strings),
 *    so that the library knows the whole password and redacts it;
 *  - control bytes (a stray CR, NUL) are refused: they would split the
 *    command or be cut off.
 */
#ifndef IMCLI_USERLINE_H
#define IMCLI_USERLINE_H

#include <stddef.h>

enum imcli_line_kind {
    IMCLI_LINE_EMPTY,   /* nothing to send */
    IMCLI_LINE_RAW,     /* send as written */
    IMCLI_LINE_LOGIN,   /* send as LOGIN user password */
    IMCLI_LINE_REFUSED, /* why: in reason */
};

struct imcli_line {
    enum imcli_line_kind kind;
    const char *reason;
    char user[256], password[1024]; /* IMCLI_LINE_LOGIN; wipe after use */
};

void imcli_line_classify(const char *line, size_t len, struct imcli_line *out);
/* Wipes what the classification copied out of a LOGIN line. */
void imcli_line_wipe(struct imcli_line *l);
/* The line as an imclient_send format: every % doubled (free it). */
char *imcli_line_format(const char *line);

#endif
