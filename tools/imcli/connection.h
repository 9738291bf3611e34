/*
 * Making the connection a session runs on: connect, TLS (STARTTLS by
 * default, implicit with --implicit-tls, verified unless told otherwise),
 * then LOGIN or SASL.  Each failure has its own exit code.
 */
#ifndef IMCLI_CONNECTION_H
#define IMCLI_CONNECTION_H

struct imcli_options;
struct imcli_session;

/* Whether the chosen authentication needs a password (GSSAPI and
 * EXTERNAL alone do not). */
int imcli_needs_password(const struct imcli_options *o);

/* Returns IMCLI_EXIT_OK with s->c ready for commands, or the exit code
 * after saying why on stderr.  password: NULL when none is needed. */
int imcli_connection_open(struct imcli_session *s, const char *password);

#endif
