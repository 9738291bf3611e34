/*
 * Where the password comes from: an environment variable, a file, or a
 * prompt on the terminal with echo off.  Never from the command line,
 * where every local user can read it.
 */
#ifndef IMCLI_PASSWORD_H
#define IMCLI_PASSWORD_H

struct imcli_options;

/* The password, in memory that imcli_password_free() wipes; NULL after
 * printing why it could not be had. */
char *imcli_password_get(const struct imcli_options *o);
void imcli_password_free(char *password);

#endif
