/*
 * cyrus_getpass() for the Perl binding (see lib/util.h).  Cyrus maps it to
 * getpass(3), which glibc marks obsolete.  Each call first wipes what the
 * previous one returned: the binding copies the password out at once.
 */
#include "lib/util.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static char line[1024];

char *cyrus_getpass(const char *prompt)
{
    FILE *tty = fopen("/dev/tty", "r+");
    FILE *in = tty ? tty : stdin;
    FILE *out = tty ? tty : stderr;
    struct termios saved, quiet;
    int restore = 0;
    size_t n;

    memset(line, 0, sizeof line);
    if (tcgetattr(fileno(in), &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        restore = tcsetattr(fileno(in), TCSAFLUSH, &quiet) == 0;
    }
    fputs(prompt, out);
    fflush(out);
    if (!fgets(line, sizeof line, in))
        line[0] = '\0';
    if (restore)
        tcsetattr(fileno(in), TCSAFLUSH, &saved);
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    if (tty)
        fclose(tty);
    return line;
}
