/*
 * imcli's exit status, one value per kind of outcome so that a script can
 * tell "the server said NO" from "the certificate did not verify".  The
 * man page (man/man1/imcli.1, EXIT STATUS) lists the same table.
 */
#ifndef IMCLI_EXITCODES_H
#define IMCLI_EXITCODES_H

enum imcli_exit {
    IMCLI_EXIT_OK = 0,
    IMCLI_EXIT_COMMAND = 1, /* a command got NO or BAD (not interactive),
                               or --fetch found no such message */
    IMCLI_EXIT_USAGE = 2,   /* bad options or arguments; nothing was sent */
    IMCLI_EXIT_CONNECT = 3, /* the host could not be reached */
    IMCLI_EXIT_TLS = 4,     /* TLS setup, handshake or verification failed */
    IMCLI_EXIT_AUTH = 5,    /* authentication failed or was refused */
    IMCLI_EXIT_LOST = 6,    /* the connection ended or broke mid-session */
    IMCLI_EXIT_LOCAL = 7,   /* a local file or terminal could not be used */
};

#endif
