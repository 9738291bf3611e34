/*
 * What IMAP.xs takes from Cyrus's lib/util.h (and the config.h it pulls
 * in): whether TLS is there, and a terminal password prompt.  Reading a
 * password from a terminal is the application's business, not an IMAP
 * client library's, so it lives here with the binding (getpass.c) rather
 * than in libcyrus.
 */
#ifndef IMC_PERL_SHIM_UTIL_H
#define IMC_PERL_SHIM_UTIL_H

#include "lib/imclient.h"

/* Cyrus's configure sets HAVE_SSL when built with OpenSSL; this library
 * always speaks TLS, and says so. */
#ifdef IMCLIENT_HAVE_TLS_VERIFY
#define HAVE_SSL 1
#endif

/* Prints prompt, reads one line with echo off from the controlling
 * terminal (standard input/error when there is none) and returns it
 * without its newline, in a static buffer that the next call reuses. */
char *cyrus_getpass(const char *prompt);

#endif
