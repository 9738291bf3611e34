/*
 * IMAP URLs (RFC 5092) and mailbox names in modified UTF-7 (RFC 3501
 * section 5.1.3).
 *
 * Every function writes into a buffer the caller gives, with its size, and
 * never allocates: results live as long as the caller wants, nothing can
 * run out of memory half-way, and no function needs a matching free.  A
 * buffer too small is an error (IMAPURL_ENOSPC), never a truncated result.
 * On success every output is NUL-terminated.  Functions keep no state
 * between calls and are safe to call from any thread.
 *
 * Conversions are strict.  Input that RFC 3501 or RFC 5092 does not allow,
 * or allows in more than one spelling where the RFC names one, is refused
 * with IMAPURL_EINVAL rather than guessed at: these strings come from
 * servers and from links and end up in commands.
 */
#ifndef CYRUS_IMAPURL_H
#define CYRUS_IMAPURL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes: 0 for success, one of these otherwise. */
enum imapurl_error {
    IMAPURL_OK = 0,
    IMAPURL_EINVAL = -1,  /* malformed input (bad UTF-8, modified UTF-7,
                             percent escape, URL syntax, missing part) */
    IMAPURL_ENOSPC = -2,  /* the output buffer is too small */
    IMAPURL_ERANGE = -3,  /* a number overflows or is out of range: UID or
                             UIDVALIDITY 0 or above 4294967295, port 0 or
                             above 65535 */
    IMAPURL_ENOTSUP = -4, /* well-formed but not supported here: relative
                             URLs, IPvFuture hosts ("[v1.x]") */
};

/* A sentence describing a return code, e.g. for a log line. */
const char *imapurl_strerror(int code);

/*
 * Modified UTF-7 to UTF-8 and back.
 *
 * in/inlen: the input (it need not be NUL-terminated; NULL with inlen 0 is
 * the empty string).  out/outcap: where the result goes; on success it is
 * NUL-terminated and *outlen (when outlen is not NULL) is its length
 * without the NUL.  On IMAPURL_ENOSPC, *outlen is the length the result
 * needs (so outcap = *outlen + 1 suffices), and out holds "" if outcap > 0;
 * out may be NULL with outcap 0 to ask for the length.  On IMAPURL_EINVAL
 * *outlen is 0 and out holds "".
 *
 * Refused as IMAPURL_EINVAL:
 *   imapurl_mutf7_to_utf8: a byte outside printable ASCII; "&" not followed
 *     by "-" or by a base64 run closed by "-"; a character outside the
 *     modified base64 alphabet (A-Z a-z 0-9 + ,) in a run; a run that
 *     decodes to no character, has a superfluous base64 character or
 *     non-zero padding bits; a run encoding printable ASCII (including "&",
 *     whose only spelling is "&-") or U+0000; a run right after another run
 *     (the two must be one); a lone or reversed UTF-16 surrogate.
 *   imapurl_utf8_to_mutf7: malformed UTF-8 (stray continuation bytes,
 *     truncated sequences, overlong forms, surrogates U+D800-U+DFFF, code
 *     points above U+10FFFF) and U+0000.
 * The encoder writes the one canonical form, so decoding its output and
 * encoding again gives the same bytes.
 */
int imapurl_mutf7_to_utf8(const char *in, size_t inlen, char *out, size_t outcap,
                          size_t *outlen);
int imapurl_utf8_to_mutf7(const char *in, size_t inlen, char *out, size_t outcap,
                          size_t *outlen);

#ifndef IMCLIENT_CYRUS3 /* Cyrus 3.x's struct imapurl: <cyrus/imclient_cyrus3.h> */
/*
 * An absolute IMAP URL (RFC 5092):
 *
 *   imap://[user][;AUTH=mech|*]@host[:port]/mailbox[;UIDVALIDITY=n][?search]
 *   imap://...@host[:port]/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s]
 *         [/;PARTIAL=offset[.length]][;EXPIRE=date-time][;URLAUTH=access[:mech:token]]
 *
 * Strings are decoded (no percent escapes left); NULL means absent.
 * Numbers are 0 when absent (RFC 5092 allows no 0 for them).  The field
 * names follow Cyrus's struct imapurl where the meaning is the same.
 */
struct imapurl {
    const char *user;          /* enc-user, UTF-8: the authorization identity */
    const char *auth;          /* ;AUTH= mechanism name, or "*" for any */
    const char *host;          /* a name, an IPv4 address, or an IPv6
                                  address without its brackets */
    unsigned port;             /* 1..65535; 0 when absent (143 is meant) */
    const char *mailbox;       /* the IMAP name, in modified UTF-7: what
                                  SELECT takes; NULL for a server URL */
    const char *mailbox_utf8;  /* the same name in UTF-8, for display */
    unsigned long uidvalidity; /* ;UIDVALIDITY= */
    const char *search;        /* ?enc-search: SEARCH arguments, raw (may hold
                                  quoted strings and {n+} literals) */
    unsigned long uid;         /* ;UID= */
    const char *section;       /* ;SECTION=, an RFC 3501 section-spec */
    int has_partial;           /* nonzero when ;PARTIAL= is present */
    unsigned long start_octet; /* ;PARTIAL=start_octet[.octet_count] */
    unsigned long octet_count; /* 0: to the end */
    struct {
        const char *expire;    /* ;EXPIRE= RFC 3339 date-time, as written */
        const char *access;    /* ;URLAUTH= "submit+<user>", "user+<user>",
                                  "authuser" or "anonymous"; NULL: no URLAUTH */
        const char *mech;      /* both NULL: a "rump" URL, as GENURLAUTH takes */
        const char *token;     /* at least 32 hexadecimal digits */
    } urlauth;
};

/* A parse buffer of this size always suffices for a URL of len bytes. */
#define IMAPURL_BUFSIZE(len) (3 * (size_t)(len) + 16)

/*
 * Parses the NUL-terminated absolute URL s into *url.  The decoded strings
 * are written into buf (bufcap bytes; IMAPURL_BUFSIZE(strlen(s)) always
 * suffices) and url's pointers point into it.  The scheme and the
 * ";UID="-style keywords are matched without regard to ASCII case.
 * Returns 0, or an error code with *url zeroed.
 *
 * Refused, beyond what the grammar forbids: a bad or NUL-producing
 * percent escape; a user or mailbox that is not UTF-8; a mailbox segment
 * "." or ".." written unescaped (RFC 5092 section 7 wants them escaped, a
 * URI resolver would remove them); a section that is not an RFC 3501
 * section-spec (it goes between the brackets of a FETCH, so CR, LF and "]"
 * never pass); an auth mechanism that is not a SASL mechanism name; an
 * IPv6 literal that is not an IPv6 address (zone identifiers included).
 * Relative references (RFC 5092 section 7) give IMAPURL_ENOTSUP.
 */
int imapurl_parse(struct imapurl *url, const char *s, char *buf, size_t bufcap);

/*
 * Writes url as an absolute IMAP URL into out (outcap bytes); the rules on
 * out and *outlen are those of the mUTF-7 functions above.  host is
 * required.  The mailbox is taken from url->mailbox (modified UTF-7) or,
 * when that is NULL, from url->mailbox_utf8.  Each part is
 * percent-encoded as RFC 5092's grammar requires, keywords are written in
 * upper case, and the fields are checked as imapurl_parse checks them, so
 * that parsing the result gives back the same fields.  Also refused:
 * fields that need another one (a UID without a mailbox, a section without
 * a UID, a search with a UID, mech without token).
 */
int imapurl_build(const struct imapurl *url, char *out, size_t outcap, size_t *outlen);
#endif /* !IMCLIENT_CYRUS3 */

#ifdef __cplusplus
}
#endif

#ifdef IMCLIENT_CYRUS3
#include <cyrus/imclient_cyrus3.h>
#endif

#endif
