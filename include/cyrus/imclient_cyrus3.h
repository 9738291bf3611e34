/*
 * cyrus/imclient_cyrus3.h - source compatibility with Cyrus IMAP 3.x's
 * imclient and imapurl interfaces, opt-in.
 *
 * A program written for Cyrus 3.x defines IMCLIENT_CYRUS3 before it
 * includes <cyrus/imclient.h> (or <cyrus/imapurl.h>, or this header) and
 * builds unchanged: imclient_connect() takes SASL callbacks,
 * imclient_authenticate() a mechanism list and SSF bounds, struct imapurl
 * is 3.x's, and imclient_write(), imapurl_fromURL(), imapurl_toURL(), the
 * %B format and IMCLIENT_CONN_INITIALRESPONSE exist.  <sasl/sasl.h> is
 * included, as Cyrus's header does.
 *
 * The 3.x forms are functions of their own in the same libcyrus.so.1
 * (imclient_connect_cyrus3, imclient_authenticate_cyrus3, ...); the macros
 * at the end of this file map the 3.x names onto them, so objects built
 * either way link into one program.  Without IMCLIENT_CYRUS3 this header
 * declares the _cyrus3 names and maps nothing.
 *
 * Where Cyrus 3.x behaves badly, these functions keep this library's
 * behaviour: TLS verifies the server, PLAIN and LOGIN are refused without
 * TLS unless IMCLIENT_CONN_ALLOWPLAINTEXT is set, nothing ever prompts, and
 * %a must be an atom.  docs/DIFFERENCES.md lists each difference.
 */
#ifndef CYRUS_IMCLIENT_CYRUS3_H
#define CYRUS_IMCLIENT_CYRUS3_H

#include <stddef.h>
#include <time.h>
#include <sasl/sasl.h>
#include <cyrus/imclient.h>
#include <cyrus/imapurl.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Flag of imclient_setflags(): the server takes an initial response in the
 * AUTHENTICATE command (RFC 4959 SASL-IR), so send it there even when the
 * server's CAPABILITY does not say so.  (Without it the response is sent
 * inline only when CAPABILITY lists SASL-IR.)  Cyrus 3.x gave it the value
 * of IMCLIENT_CONN_NONSYNCLITERAL, so setting it turned on LITERAL+ and
 * nothing else; here it has a bit of its own.
 */
#define IMCLIENT_CONN_INITIALRESPONSE 0x20

/*
 * Connect as imclient_connect() does, and keep cbs for
 * imclient_authenticate_cyrus3(), which asks it for names and secrets:
 * SASL_CB_AUTHNAME, SASL_CB_USER (the authorization identity),
 * SASL_CB_PASS and SASL_CB_GETREALM, through the usual sasl_callback_t
 * procedure types.  The list and whatever its contexts point to must stay
 * valid while the connection may authenticate; it is read when
 * authentication runs, not now.  Other ids (prompts among them) are never
 * called.  cbs may be NULL: then only mechanisms needing no secret
 * (GSSAPI with a credential cache, EXTERNAL) can succeed.  The callbacks
 * take the connection's secret procedure (imclient_setsecretproc()); a
 * procedure the application sets afterwards replaces them.
 *
 * Returns 0 with *imclient set; else *imclient is NULL and the result is
 * an errno value (the connect failed), -1 (unknown host) or -2 (unknown
 * service).
 */
int imclient_connect_cyrus3(struct imclient **imclient, const char *host, const char *port,
                            sasl_callback_t *cbs);

/*
 * Authenticate with the first mechanism of mechlist that works: a list of
 * SASL mechanism names separated by spaces or commas, in any case (as
 * CAPABILITY's AUTH= atoms, "AUTH=" optional).  Those the server offers
 * are tried strongest first (the security layer they can give, then
 * whether they keep the password off the wire), as libsasl2 chooses.
 * service is the SASL service name (NULL: "imap"); user is the name to
 * log in as when the callbacks give no SASL_CB_AUTHNAME (for GSSAPI and
 * EXTERNAL, the identity to act as).  minssf and maxssf bound the
 * security layer: 0 admits none, 1 integrity only, more privacy; a layer
 * negotiated outside [minssf, maxssf] closes the connection.
 *
 * Returns 0 on success; 1 when no mechanism worked (the connection stays
 * usable unless imclient_isopen() says otherwise; imclient_error() says
 * why); 2 when the server said OK before the exchange was complete.
 * Cyrus 3.x returned raw negative SASL codes as well; these are never
 * returned.
 */
int imclient_authenticate_cyrus3(struct imclient *imclient, char *mechlist, char *service,
                                 char *user, int minssf, int maxssf);

/*
 * imclient_starttls() as Cyrus 3.x programs call it: a CAfile or CApath
 * of "" means none, as in Cyrus 3.x, where it was how a caller with no CA
 * configured asked for the system's trusted CAs (Cyrus::IMAP passes ""
 * when the user names none).  The server is still verified.  Returns what
 * imclient_starttls() returns.
 */
int imclient_starttls_cyrus3(struct imclient *imclient, char *cert_file, char *key_file,
                             char *CAfile, char *CApath);

/*
 * Queue len bytes exactly as given, outside any command, and write what
 * the socket takes now (the rest goes as events are processed).  For
 * protocol the format of imclient_send() cannot express, such as the
 * answer to a "+" the application handles itself.  Refused (nothing is
 * queued; imclient_error() says why) while STARTTLS, AUTHENTICATE or
 * COMPRESS owns the stream, from the trace procedure, and once the
 * connection is closed.
 */
void imclient_write(struct imclient *imclient, const char *s, size_t len);

/*
 * Cyrus 3.x's parsed IMAP URL.  Strings point into freeme (one block the
 * caller free()s); numbers are 0 when absent.  server is the host with
 * its ":port" if the URL has one (an IPv6 address keeps its brackets);
 * mailbox is in modified UTF-7.
 */
struct imapurl_cyrus3 {
    char *freeme;
    const char *user;
    const char *auth;
    const char *server;
    const char *mailbox;
    unsigned long uidvalidity;
    unsigned long uid;
    const char *section;
    unsigned long start_octet;
    unsigned long octet_count;
    struct {
        const char *access;
        const char *mech;
        const char *token;
        time_t expire;      /* ;EXPIRE= as seconds since the epoch, 0: none */
        size_t rump_len;    /* bytes of src up to the end of ";URLAUTH=access" */
    } urlauth;
};

/*
 * Parse src into *url.  src is an absolute IMAP URL (RFC 5092, checked as
 * imapurl_parse() checks it), a relative one ("/mailbox;UID=..." or
 * "mailbox..."; server is then NULL), or c-client's "{server}mailbox"
 * (taken as written).  Returns 0, or -1 with every field of *url zero
 * (freeme NULL).  On success free(url->freeme) when done.
 */
int imapurl_fromURL(struct imapurl_cyrus3 *url, const char *src);

/*
 * Write url as an IMAP URL into dst: absolute when url->server is set,
 * else relative ("/mailbox...").  dst gets "" when a field is not
 * acceptable (imapurl_build()'s checks).  The interface gives no size:
 * dst must hold 200 bytes plus 9 for each byte of mailbox and 3 for each
 * byte of the other strings.  New code should call imapurl_build(),
 * which takes the buffer's size.
 */
void imapurl_toURL(char *dst, const struct imapurl_cyrus3 *url);

#ifdef IMCLIENT_CYRUS3
#define imclient_connect imclient_connect_cyrus3
#define imclient_authenticate imclient_authenticate_cyrus3
#define imclient_starttls imclient_starttls_cyrus3
#define imapurl imapurl_cyrus3
#endif

#ifdef __cplusplus
}
#endif

#endif /* CYRUS_IMCLIENT_CYRUS3_H */
