/* Internals of the IMAP URL and modified UTF-7 module (include/cyrus/imapurl.h). */
#ifndef IMC_URL_H
#define IMC_URL_H

#include <stddef.h>
#include <stdint.h>

#include <cyrus/imapurl.h>

#include "util/utf8.h"

/* ---- out.c: a bounded output that keeps counting past its end ---- */

/* len grows even when buf is full, so a failed write still tells how much
 * room it needed. */
struct imc_url_out {
    char *buf;
    size_t cap;
    size_t len;
};

void imc_url_out_init(struct imc_url_out *o, char *buf, size_t cap);
void imc_url_putc(struct imc_url_out *o, char c);
void imc_url_puts(struct imc_url_out *o, const char *s, size_t n);
/* NUL-terminates; 0 or IMAPURL_ENOSPC (then buf holds ""). */
int imc_url_out_finish(struct imc_url_out *o);
/* Ends a call: on success *outlen is the length, on ENOSPC the length
 * needed, on other errors 0 and buf holds "". */
int imc_url_out_result(struct imc_url_out *o, int r, size_t *outlen);

/* ---- utf8.c: a code point written as UTF-8 (reading it: util/utf8.h) ---- */

void imc_utf8_put(struct imc_url_out *o, uint32_t cp);

/* ---- mutf7.c: modified UTF-7 engines ---- */

/* Receives decoded code points; a nonzero return stops the decoder. */
typedef int imc_cp_sink(void *rock, uint32_t cp);
int imc_mutf7_decode(const char *in, size_t inlen, imc_cp_sink *sink, void *rock);
int imc_mutf7_encode(const char *in, size_t inlen, struct imc_url_out *o);

/* ---- pct.c: percent-encoding and RFC 5092's character classes ---- */

enum {
    IMC_URL_UNRESERVED = 1,  /* ALPHA DIGIT - . _ ~ */
    IMC_URL_SUBDELIM_SH = 2, /* ! $ ' ( ) * + , */
    IMC_URL_AMP_EQ = 4,      /* & = */
    IMC_URL_SEMI = 8,        /* ; */
    IMC_URL_PATHSEP = 16,    /* : @ / */
};
#define IMC_URL_ACHAR (IMC_URL_UNRESERVED | IMC_URL_SUBDELIM_SH | IMC_URL_AMP_EQ)
#define IMC_URL_BCHAR (IMC_URL_ACHAR | IMC_URL_PATHSEP)
#define IMC_URL_REGNAME (IMC_URL_ACHAR | IMC_URL_SEMI)

unsigned imc_url_class(unsigned char c);
/* Writes c as itself when it is in cls, else as %XX. */
void imc_url_pct_putc(struct imc_url_out *o, unsigned char c, unsigned cls);
void imc_url_pct_encode(struct imc_url_out *o, const char *s, size_t n, unsigned cls);
/* Decodes s[0..n), whose literal characters must be in cls; no NUL is
 * written.  0 or IMAPURL_EINVAL (bad escape, %00, character not in cls). */
int imc_url_pct_decode(const char *s, size_t n, unsigned cls, struct imc_url_out *o);

/* ---- number.c: IMAP numbers and keywords ---- */

/* number = 1*DIGIT, at most max; advances *p.  EINVAL, ERANGE. */
int imc_url_number(const char **p, unsigned long max, unsigned long *v);
/* nz-number (RFC 3501): 1..4294967295, no leading zero. */
int imc_url_nz_number(const char **p, unsigned long *v);
void imc_url_put_number(struct imc_url_out *o, unsigned long v);
/* Nonzero if s starts with keyword (ASCII case-insensitive); advances *s. */
int imc_url_keyword(const char **s, const char *keyword);

/* ---- server.c: [user][;AUTH=mech]@host[:port] ---- */

/* A SASL mechanism name (RFC 4422). */
int imc_url_mech_ok(const char *s);
int imc_url_server_parse(const char *s, size_t n, struct imapurl *url,
                         struct imc_url_out *o);
int imc_url_server_check(const struct imapurl *url);
void imc_url_server_build(struct imc_url_out *o, const struct imapurl *url);

/* ---- section.c, host.c, urlauth.c: checks shared by parse and build ---- */

int imc_url_section_ok(const char *s);
/* A decoded host: 0, EINVAL; an IPv6 address is one with a ':'. */
int imc_url_host_check(const char *host);
/* Parses host [":" port] from s[0..n) into url, strings into o. */
int imc_url_host_parse(const char *s, size_t n, struct imapurl *url, struct imc_url_out *o);
void imc_url_host_build(struct imc_url_out *o, const char *host);
int imc_url_urlauth_check(const struct imapurl *url);
/* Parses [";EXPIRE=" date-time] ";URLAUTH=" ... up to the end of s. */
int imc_url_urlauth_parse(const char *s, struct imapurl *url, struct imc_url_out *o);
void imc_url_urlauth_build(struct imc_url_out *o, const struct imapurl *url);

/* ---- mailbox.c: a mailbox name in a URL path ---- */

/* Writes the name (modified UTF-7 when mutf7, else UTF-8) percent-encoded
 * as enc-mailbox, escaping what RFC 5092 section 7 says must be. */
int imc_url_mailbox_build(struct imc_url_out *o, const char *name, int mutf7);
/* Decodes the enc-mailbox s[0..n) into mailbox_utf8 and mailbox.
 * last_is_segment: the last segment ends the path segment, so "." or ".."
 * there is a dot-segment too. */
int imc_url_mailbox_parse(const char *s, size_t n, int last_is_segment,
                          struct imapurl *url, struct imc_url_out *o);

/* A decoded string: s[0..n) decoded into o, NUL-terminated, *field set. */
int imc_url_take(const char *s, size_t n, unsigned cls, struct imc_url_out *o,
                 const char **field);

#endif
