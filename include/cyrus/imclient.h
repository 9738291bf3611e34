/*
 * cyrus/imclient.h - authenticating, callback-driven interface to IMAP servers.
 *
 * The first part is the interface of the imclient(3) page, with its types,
 * constants and signatures.  The second part ("Extensions") adds what a
 * careful client needs and the page lacks: error strings, limits, bounded
 * waits and the length of reply text.  See docs/API.md for the whole story.
 *
 * The header does not declare fatal(): the application may define it with
 * either of the two signatures in use, void fatal(const char *, int) or
 * void fatal(char *, int), and a declaration here would clash with one.
 */
#ifndef CYRUS_IMCLIENT_H
#define CYRUS_IMCLIENT_H

#include <stddef.h>
#include <stdio.h> /* programs written for imclient(3) expect it from here */
#include <cyrus/sasl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct imclient;

/*
 * Version and features (extension).  IMCLIENT_VERSION_NUM grows with every
 * release (0xMMmmpp); imclient_version() is the library actually loaded.
 * A program can test for what it uses with the IMCLIENT_HAVE_* macros.
 */
#define IMCLIENT_VERSION_MAJOR 1
#define IMCLIENT_VERSION_MINOR 1
#define IMCLIENT_VERSION_PATCH 0
#define IMCLIENT_VERSION_STRING "1.1.0"
#define IMCLIENT_VERSION_NUM                                                   \
    ((IMCLIENT_VERSION_MAJOR << 16) | (IMCLIENT_VERSION_MINOR << 8) |          \
     IMCLIENT_VERSION_PATCH)
const char *imclient_version(void);

#define IMCLIENT_HAVE_ERROR 1          /* imclient_error, imclient_errcode */
#define IMCLIENT_HAVE_LIMITS 1         /* imclient_setlimits, timeouts */
#define IMCLIENT_HAVE_LITERAL_STREAM 1 /* imclient_addliteralcallback */
#define IMCLIENT_HAVE_TLS_VERIFY 1     /* verified TLS, imclient_begintls */
#define IMCLIENT_HAVE_COMPRESS 1       /* imclient_compress */
#define IMCLIENT_HAVE_IDLE 1           /* imclient_idle */
#define IMCLIENT_HAVE_EVENTS 1         /* imclient_wants, _handle_events */
#define IMCLIENT_HAVE_FDCLOSING 1      /* imclient_setfdclosing */
#define IMCLIENT_HAVE_BATCH 1          /* IMCLIENT_CONN_BATCH, imclient_flush */
#define IMCLIENT_HAVE_START 1          /* the *_start non-blocking forms */
#define IMCLIENT_HAVE_IMPARSE 1        /* <cyrus/imparse.h> */
#define IMCLIENT_HAVE_IMAPURL 1        /* <cyrus/imapurl.h> */
#define IMCLIENT_HAVE_LITERAL_SOURCE 1 /* %L: a literal read as it is sent */
#define IMCLIENT_HAVE_CAPABILITIES 1   /* capabilities learnt, imclient_hascapability */

/*
 * An untagged reply, a continuation request, or the completion of a command.
 * keyword: "EXISTS", "FETCH", "OK", "NO", "BAD", "EOF", "+" ... (upper case).
 * msgno:   the number before the keyword of an untagged reply, else -1.
 * text:    what follows the keyword; any literal of the reply is inline,
 *          its "{n}\r\n" header included.  NUL-terminated and writable
 *          until the callback returns.
 * textlen: the length of text, which may itself hold NUL bytes from a literal.
 */
struct imclient_reply {
    char *keyword;
    long msgno;
    char *text;
    size_t textlen; /* extension: true length of text */
};

typedef void imclient_proc_t(struct imclient *imclient, void *rock,
                             struct imclient_reply *reply);
/* Extension: how a non-blocking exchange (imclient_*_start) reports its
 * end, with the result its blocking form would have returned. */
typedef void imclient_result_proc_t(struct imclient *imclient, void *rock, int result);

/* Flags of imclient_addcallback() */
#define CALLBACK_NUMBERED  1 /* the entry takes replies that carry a number */
#define CALLBACK_NOLITERAL 2 /* deliver only the first line; skip any literal */

/* Flags of imclient_setflags() / imclient_clearflags() */
#define IMCLIENT_CONN_NONSYNCLITERAL 1 /* server has LITERAL+: send {n+} */
/* Extension: let imclient_authenticate() use mechanisms that send the
 * password itself (PLAIN, LOGIN) on a connection without TLS.  Off by
 * default: without TLS anyone on the path reads the password, and can
 * rewrite the server's mechanism list to steer us to such a mechanism. */
#define IMCLIENT_CONN_ALLOWPLAINTEXT 0x10
/* Extension: pipelining.  imclient_send() only queues; the queue leaves in
 * few, large writes when events are handled (imclient_processoneevent*(),
 * imclient_handle_events()) or at imclient_flush().  A program with its own
 * select() must then wait for writing whenever imclient_getselectinfo()
 * says output waits.  Off by default: the page's programs expect each
 * command to leave at once. */
#define IMCLIENT_CONN_BATCH 0x40

#ifndef IMCLIENT_CYRUS3 /* Cyrus 3.x's form: <cyrus/imclient_cyrus3.h> */
int imclient_connect(struct imclient **imclient, const char *host,
                     const char *port);
#endif
void imclient_close(struct imclient *imclient);
void imclient_setflags(struct imclient *imclient, int flags);
void imclient_clearflags(struct imclient *imclient, int flags);
/* Extension: whether the server's latest capability list (greeting,
 * CAPABILITY reply, [CAPABILITY] code) names capability, compared without
 * regard to case: 1 yes, 0 no, -1 when no list has arrived since it was
 * last forgotten (at STARTTLS, LOGIN, AUTHENTICATE, a security layer). */
int imclient_hascapability(struct imclient *imclient, const char *capability);
char *imclient_servername(struct imclient *imclient);
void imclient_addcallback(struct imclient *imclient, ...);
void imclient_send(struct imclient *imclient, imclient_proc_t *finishproc,
                   void *finishrock, const char *fmt, ...);
void imclient_getselectinfo(struct imclient *imclient, int *fd,
                            int *wanttowrite);
void imclient_processoneevent(struct imclient *imclient);
/* Extension: write what the socket takes now of the queued commands,
 * without waiting.  Returns 0 when nothing is left queued, 1 when some
 * waits for the socket (events finish it), -1 when the connection has
 * failed or when called from the trace procedure (imclient_error() says
 * why). */
int imclient_flush(struct imclient *imclient);

/*
 * Extension: a literal whose bytes the application supplies as the socket
 * takes them, for imclient_send()'s "%L" (a const struct
 * imclient_literal_source *; the struct is copied, the source is read).
 * The literal is announced as {size} (~{size} with IMCLIENT_LITERAL_BINARY,
 * RFC 3516's literal8), synchronizing or not by the same rule as "%s".  Its
 * bytes are read in chunks of at most 256 KiB, each only once everything
 * before it is written and the server's "+" has come: read(rock, buf, max)
 * when read is set, else read(2) on fd from where it stands.  Either gives
 * a count of bytes (at most max), 0 at the end, or -1 on error, and never
 * "later": a source must be as ready as a regular file.  It must end after
 * exactly size bytes (one more read must give 0).  A source that fails,
 * ends early or has more fails the connection (IMCLIENT_EIO): the server
 * would read whatever came next as the literal.  The library reads the
 * source only until the command's finishproc runs; read may not call
 * imclient_send() or imclient_flush().  The trace shows the literal as
 * "[n bytes from a literal source]".
 */
struct imclient_literal_source {
    unsigned long long size; /* exactly the bytes the source will give */
    long (*read)(void *rock, char *buf, size_t max); /* or NULL: use fd */
    void *rock;
    int fd;
    int flags;               /* IMCLIENT_LITERAL_* */
};
#define IMCLIENT_LITERAL_BINARY 1 /* send as literal8, ~{n} (server has BINARY) */
#ifndef IMCLIENT_CYRUS3
int imclient_authenticate(struct imclient *imclient,
                          struct sasl_client **availmech, const char *service,
                          const char *user, int protallowed);
#endif
int imclient_havetls(void);
int imclient_starttls(struct imclient *imclient, char *cert_file,
                      char *key_file, char *CAfile, char *CApath);

/* ---------------------------------------------------------------------------
 * Extensions
 * ------------------------------------------------------------------------- */

/*
 * The error model: every connection has a reason (imclient_error(): a
 * sentence, safe to print, "" when nothing went wrong; valid until the
 * next call on the connection) and a code (imclient_errcode(): one of
 * IMCLIENT_E* below, IMCLIENT_OK with ""), set together under one rule:
 * the first failure of the connection is final; until then the latest
 * refusal or explanation stands, and a command that is queued clears it.
 *
 * Return values of the extensions follow one convention: 0 for success,
 * -1 for failure (the code and reason say why); where a call has more
 * outcomes (imclient_compress(): 1 when the server said NO) or follows the
 * page's (imclient_authenticate(): 0/1/2, imclient_connect(): errno/-1/-2,
 * imclient_processoneevent_timeout(): 1/0/-1), its comment says so.
 */
enum {
    IMCLIENT_OK = 0,
    IMCLIENT_EMISUSE,   /* the call is not allowed now or its arguments are
                           wrong; nothing was sent for it */
    IMCLIENT_ECONNECT,  /* the connection could not be made */
    IMCLIENT_EEOF,      /* the server closed the connection */
    IMCLIENT_EIO,       /* reading or writing failed */
    IMCLIENT_ETIMEOUT,  /* the server did not answer in time */
    IMCLIENT_EPROTOCOL, /* the server broke the protocol */
    IMCLIENT_ELIMIT,    /* the server exceeded a limit (imclient_setlimits) */
    IMCLIENT_ETLS,      /* TLS set-up, handshake or verification failed */
    IMCLIENT_EAUTH,     /* authentication failed */
    IMCLIENT_EREFUSED,  /* the server answered NO or BAD to an exchange */
    IMCLIENT_ECLOSED,   /* the application closed the connection (seen by
                           the EOF callbacks imclient_close() runs) */
};
const char *imclient_error(struct imclient *imclient);
int imclient_errcode(struct imclient *imclient);
/* A short sentence for a code. */
const char *imclient_strerror(int code);

/* Nonzero while the connection is open (before EOF was delivered). */
int imclient_isopen(struct imclient *imclient);

/*
 * Like imclient_processoneevent(), but waits at most timeout_ms
 * milliseconds (-1: no limit of its own).  Returns 1 when it handled an
 * event, 0 when the time ran out, -1 when the connection is closed or when
 * called from inside a callback (which may not run the event loop).
 */
int imclient_processoneevent_timeout(struct imclient *imclient,
                                     int timeout_ms);

/*
 * imclient_connect() without waiting.  Returns at once: 0 with *imclient
 * set, the name lookup and the connect then going on as the application's
 * loop drives the connection (imclient_wants()/imclient_handle_events(),
 * or imclient_processoneevent*()); or, with *imclient NULL, what is known
 * at once: -2 unknown service, -1 a host name with no A-label form, an
 * errno value when the attempt's descriptors cannot be made.  done runs
 * once, from the event handling: 0 when connected; else ETIMEDOUT,
 * ECONNREFUSED or another errno value (the last address tried), -1 unknown
 * host -- the connection is then closed and imclient_error() says why.
 * Either way the connection stays the application's to imclient_close()
 * (closing it before done ran makes done run, from imclient_close(), with
 * ECANCELED).  Commands sent meanwhile are queued and written once
 * connected, or get EOF if the attempt fails.  Bounds: the default
 * timeout_ms (imclient_defaultlimits()) for the lookup and again for each
 * address; the connection's limits apply from the connection on.
 */
int imclient_connect_start(struct imclient **imclient, const char *host, const char *port,
                           imclient_result_proc_t *done, void *rock);

/*
 * Driving the connection from any event loop (libevent, libuv, epoll, a
 * GUI's), instead of imclient_processoneevent():
 *
 * imclient_wants() says what to wait for: the returned mask of
 * IMCLIENT_EV_READ / IMCLIENT_EV_WRITE on *fd (-1 once the connection is
 * closed), and *timeout_ms, how long until imclient_handle_events() must be
 * called even if nothing happens (-1: no deadline; 0: at once, because
 * bytes are already waiting inside TLS or COMPRESS).  It changes nothing,
 * so call it again after every event: what to wait for changes.  The
 * descriptor changes too: while imclient_connect_start()'s attempt runs,
 * *fd is one that stands for all the attempt waits for (DNS sockets,
 * connecting socket, timers: watch it for reading, no timeout is needed),
 * and once connected it is the socket -- a loop must take *fd anew each
 * time and move its watch when it differs.
 *
 * imclient_handle_events() does what the events allow and never waits:
 * writes what may go, reads once and runs callbacks, and ends the
 * connection when its deadline has passed.  events: what the loop saw on
 * the socket, 0 when its timer fired.  Returns 1 when it did something, 0
 * when not, -1 when the connection is closed (EOF delivered; close it) or
 * was freed by an imclient_close() from a callback, or when called from a
 * callback (nothing done).
 *
 * imclient_setcleanup() names a procedure called when the connection is
 * freed, however that happens, so a loop adapter can drop its watchers.
 *
 * imclient_setfdclosing() names a procedure called just before the library
 * closes the descriptor imclient_wants() reports: when the connection ends
 * (a failure, the server's EOF, imclient_close()) and when a finished
 * imclient_connect_start() attempt hands over to the socket.  A loop that
 * knows descriptors by number (libevent, libuv, epoll) must forget fd then,
 * or a socket opened later with the same number would go unwatched.  The
 * procedure runs inside the library: it may only stop watching; calls on
 * the connection made from it are refused or deferred as from a callback.
 */
#define IMCLIENT_EV_READ  1
#define IMCLIENT_EV_WRITE 2
int imclient_wants(struct imclient *imclient, int *fd, int *timeout_ms);
int imclient_handle_events(struct imclient *imclient, int events);
void imclient_setcleanup(struct imclient *imclient, void (*proc)(void *rock), void *rock);
typedef void imclient_fdclosing_proc_t(struct imclient *imclient, void *rock, int fd);
void imclient_setfdclosing(struct imclient *imclient, imclient_fdclosing_proc_t *proc, void *rock);

/*
 * Per-connection limits.  Exceeding one closes the connection with a clear
 * error; every pending command then gets EOF.  Zero in a field passed to
 * imclient_setlimits() means "keep the current value".
 */
struct imclient_limits {
    size_t max_line;     /* one protocol line, without literals (1 MiB) */
    size_t max_literal;  /* one literal (64 MiB) */
    size_t max_reply;    /* one reply as delivered to a callback (64 MiB) */
    int timeout_ms;      /* silence tolerated while a command waits for its
                            reply or before the greeting (120000); -1: wait
                            forever.  imclient_connect() uses the default
                            per address and for the name lookup */
    int command_timeout_ms; /* longest a command may wait for its tagged
                            reply however busy the server keeps us (0: no
                            limit, the default: IDLE waits for minutes) */
};
void imclient_getlimits(struct imclient *imclient,
                        struct imclient_limits *limits);
void imclient_setlimits(struct imclient *imclient,
                        const struct imclient_limits *limits);

/* Library defaults, for callers that want to start from them. */
void imclient_defaultlimits(struct imclient_limits *limits);

/*
 * Streaming literals.  For replies that match keyword and the NUMBERED
 * flag, the bytes of each literal go to proc in pieces as they arrive
 * instead of into the reply, so memory stays small however large the
 * literal (max_literal still bounds it; max_reply no longer counts it).
 * The keyword's reply callback, if any, still runs at the end of the reply,
 * with each literal's "{n}\r\n" header in the text but not its bytes.
 * A NULL proc turns streaming off again.
 */
struct imclient_literal {
    long msgno;                 /* the reply's number, or -1 */
    const char *before;         /* the reply's text so far, ending with this */
    size_t beforelen;           /*   literal's "{n}\r\n" header (not NUL-ended) */
    unsigned long long size;    /* the literal's announced size */
    unsigned long long offset;  /* where data lies within the literal */
    const char *data;           /* offset + len == size on the last piece */
    size_t len;
};
typedef void imclient_literal_proc_t(struct imclient *imclient, void *rock,
                                     const struct imclient_literal *piece);
void imclient_addliteralcallback(struct imclient *imclient, const char *keyword,
                                 int flags, imclient_literal_proc_t *proc, void *rock);

/*
 * Watch the conversation: proc sees each piece of protocol the client
 * writes (direction 'C') or reads ('S'), as plain text above any TLS or
 * SASL layer.  Secrets the client writes -- the password argument of
 * LOGIN, the initial response of AUTHENTICATE and every response line of
 * its exchange -- are shown as "[redacted]" unless IMCLIENT_TRACE_SECRETS
 * is set with imclient_settraceflags().  proc runs like any callback: it
 * may call imclient_close() (carried out when the library returns) but not
 * imclient_send() or anything that runs the event loop.
 */
typedef void imclient_trace_proc_t(struct imclient *imclient, void *rock,
                                   int direction, const char *data, size_t len);
void imclient_settrace(struct imclient *imclient, imclient_trace_proc_t *proc,
                       void *rock);
#define IMCLIENT_TRACE_SECRETS 1 /* show secrets in the trace as sent */
void imclient_settraceflags(struct imclient *imclient, int flags);

/* ---- TLS ----------------------------------------------------------------
 * imclient_starttls() verifies the server by default: the chain against
 * CAfile/CApath (the system's trust store when both are NULL) and the name
 * given to imclient_connect() against the certificate's subjectAltName.
 * It returns 0 only after a verified handshake; on any failure the
 * connection is closed (pending commands get EOF) and imclient_error() says
 * why.  Capabilities learnt before TLS are forgotten: the
 * IMCLIENT_CONN_NONSYNCLITERAL flag is cleared.
 */

/* Negotiate TLS at once, without a STARTTLS command: for servers that
 * speak TLS from the first byte (RFC 8314, port 993).  Call it right after
 * imclient_connect(); same arguments, verification and results as
 * imclient_starttls(). */
int imclient_begintls(struct imclient *imclient, char *cert_file, char *key_file,
                      char *CAfile, char *CApath);

/* Both without waiting: 0 when begun, and done runs once, from the event
 * processing, with the result the blocking form would return (0, or -1
 * with the connection closed); -1 when refused at once (done does not
 * run; the connection is closed, imclient_error() says why). */
int imclient_starttls_start(struct imclient *imclient, char *cert_file, char *key_file,
                            char *CAfile, char *CApath, imclient_result_proc_t *done,
                            void *rock);
int imclient_begintls_start(struct imclient *imclient, char *cert_file, char *key_file,
                            char *CAfile, char *CApath, imclient_result_proc_t *done,
                            void *rock);

#define IMCLIENT_TLS_VERIFY   0 /* default: chain and host name must verify */
#define IMCLIENT_TLS_NOVERIFY 1 /* accept any certificate (test servers only) */
/* Choose how the next handshake verifies the server. */
void imclient_settlsverify(struct imclient *imclient, int mode);

/* ---- Compression ---------------------------------------------------------
 * COMPRESS=DEFLATE (RFC 4978): from the server's OK on, both directions are
 * compressed.  Call it after TLS and authentication, with no command
 * pending.  Returns 0 when compression is on; 1 when the server said NO or
 * BAD (the connection goes on uncompressed); -1 when refused here (called
 * from a callback, already active, commands pending: the connection stays
 * open) or when the connection failed (it is then closed).  imclient_error()
 * says why.
 */
int imclient_compress(struct imclient *imclient);
/* The same without waiting: returns 0 when COMPRESS was sent, and done
 * runs once, from the event processing, with the result above; -1 when it
 * was refused at once (done does not run; imclient_error() says why). */
int imclient_compress_start(struct imclient *imclient, imclient_result_proc_t *done,
                            void *rock);

/* ---- IDLE (RFC 2177) -----------------------------------------------------
 * imclient_idle() sends IDLE; finish runs once when the command ends: OK
 * after imclient_idle_done(), NO or BAD if the server refused, EOF if the
 * connection ended.  While it runs, untagged replies (EXISTS, EXPUNGE,
 * FETCH ...) reach their callbacks as usual; imclient_send() and another
 * imclient_idle() are refused (BAD [CLIENTBUG]) until DONE has been asked
 * for; and once the server has accepted IDLE the silence timeout and
 * command_timeout_ms stop counting for it.  Returns 0 when queued, -1 when
 * refused or the connection is closed (finish has then run).
 *
 * imclient_idle_done() ends IDLE: DONE goes now, or as soon as the server
 * accepts IDLE if it has not yet.  It may be called from a callback (on
 * EXISTS, say).  Returns 0, or -1 when no IDLE runs.
 *
 * imclient_idling(): 1 while the server has accepted IDLE and DONE has not
 * been asked for, else 0.  RFC 2177 asks clients to end IDLE at least every
 * 29 minutes.
 */
int imclient_idle(struct imclient *imclient, imclient_proc_t *finishproc, void *finishrock);
int imclient_idle_done(struct imclient *imclient);
int imclient_idling(struct imclient *imclient);

/* ---- Authentication secrets ----------------------------------------------
 * imclient_authenticate() never prompts.  Names and secrets a mechanism
 * needs come from this procedure; it returns a NUL-terminated string that
 * stays valid until imclient_authenticate() returns, or NULL for "none".
 * Without a procedure, only mechanisms needing no secret (GSSAPI with a
 * credential cache, EXTERNAL) can succeed.
 */
#define IMCLIENT_SECRET_AUTHNAME 1 /* the name to authenticate as */
#define IMCLIENT_SECRET_USER     2 /* the identity to act as (authzid) */
#define IMCLIENT_SECRET_PASSWORD 3
#define IMCLIENT_SECRET_REALM    4
typedef const char *imclient_secret_proc_t(struct imclient *imclient, void *rock,
                                           int what, const char *mechanism);
void imclient_setsecretproc(struct imclient *imclient, imclient_secret_proc_t *proc,
                            void *rock);

/* imclient_authenticate() without waiting: returns 0 when the exchange has
 * begun, and done runs once, from the event processing, with the result
 * imclient_authenticate() would return (0, 1 or 2); -1 when it was refused
 * at once (done does not run; imclient_error() says why).  availmech,
 * service and user are copied; the secret procedure is asked as the
 * exchange needs it. */
int imclient_authenticate_start(struct imclient *imclient, struct sasl_client **availmech,
                                const char *service, const char *user, int protallowed,
                                imclient_result_proc_t *done, void *rock);

/* The security layer authentication negotiated: its strength in bits
 * (0: none, 1: integrity only, > 1: privacy), or -1 before authentication. */
int imclient_getssf(struct imclient *imclient);

#ifdef __cplusplus
}
#endif

/* Opt-in source compatibility with Cyrus IMAP 3.x. */
#ifdef IMCLIENT_CYRUS3
#include <cyrus/imclient_cyrus3.h>
#endif

#endif /* CYRUS_IMCLIENT_H */
