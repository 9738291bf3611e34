/*
 * The command line: what to connect to, how to protect and authenticate
 * the connection, and what to do once it is up.
 */
#ifndef IMCLI_OPTIONS_H
#define IMCLI_OPTIONS_H

enum imcli_tls {
    IMCLI_TLS_STARTTLS, /* the default: plain port, then STARTTLS */
    IMCLI_TLS_IMPLICIT, /* TLS from the first byte (port 993) */
    IMCLI_TLS_NONE,     /* --insecure-plaintext */
};

enum imcli_auth {
    IMCLI_AUTH_NONE,  /* stay unauthenticated */
    IMCLI_AUTH_SASL,  /* AUTHENTICATE with the mechanisms in sasl */
    IMCLI_AUTH_LOGIN, /* the IMAP LOGIN command */
};

struct imcli_options {
    const char *host;
    const char *port;
    enum imcli_tls tls;
    int no_verify;     /* --insecure-no-verify */
    const char *cafile, *capath, *cert, *key;
    enum imcli_auth auth;
    const char *sasl;  /* comma-separated mechanism names */
    const char *user, *authz;
    const char *password_env, *password_file;
    int json;
    const char *trace_file;
    const char *fetch_mailbox, *fetch_uid, *fetch_file;
    char **commands;   /* the arguments after HOST, NULL-terminated */
};

/* Fills *o from argv.  Returns -1 after printing the reason (exit with
 * IMCLI_EXIT_USAGE), 1 when --help or --version was answered (exit 0),
 * 0 to go on. */
int imcli_options_parse(struct imcli_options *o, int argc, char **argv);

#endif
