/*
 * imcli: a command-line IMAP client on libcyrus, for trying a server by
 * hand or from a script.  See man/man1/imcli.1.
 */
#include <stdio.h>

#include "connection.h"
#include "exitcodes.h"
#include "fetch.h"
#include "options.h"
#include "password.h"
#include "session.h"

int main(int argc, char **argv)
{
    struct imcli_options o;
    int r = imcli_options_parse(&o, argc, argv);
    if (r != 0)
        return r > 0 ? IMCLI_EXIT_OK : IMCLI_EXIT_USAGE;
    /* The transcript and JSON lines must reach a pipe as they happen. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Asked before connecting, so that a slow typist does not hold a
     * connection open against the server's login timeout. */
    char *password = NULL;
    if (imcli_needs_password(&o) && (password = imcli_password_get(&o)) == NULL)
        return IMCLI_EXIT_LOCAL;

    struct imcli_session s;
    int code = imcli_session_init(&s, &o);
    if (code == IMCLI_EXIT_OK)
        code = imcli_connection_open(&s, password);
    imcli_password_free(password);
    if (code == IMCLI_EXIT_OK)
        code = o.fetch_file ? imcli_fetch(&s) : imcli_session_commands(&s);
    imcli_session_end(&s);
    return code;
}
