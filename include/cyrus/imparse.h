/*
 * cyrus/imparse.h - typed parsing of IMAP reply text (RFC 3501, RFC 9051).
 *
 * Give it what a callback got: the keyword decides which helper to call,
 * reply->text and reply->textlen are the input.  Nothing here allocates:
 * every string is a span pointing into that text, valid as long as the
 * text is (until the callback returns), and no function reads past
 * textlen.  Malformed input gives a negative IMPARSE_E* code and the byte
 * offset (from the start of text) where parsing stopped; never a crash.
 *
 * Two layers:
 *  - a pull tokenizer (imparse_init / imparse_next), for anything;
 *  - helpers for the replies applications parse most (FETCH, LIST/LSUB,
 *    STATUS, SEARCH, ESEARCH, CAPABILITY/ENABLED, response codes).
 *
 * Bounds.  Lists of unknown length (flags, capabilities, addresses, body
 * parameters, sequence-set ranges, STATUS pairs, FETCH items) are read
 * through iterators: a span remembers where the list lies and an iterator
 * walks it on demand, so there is no count to guess and no array to
 * overflow.  A BODYSTRUCTURE is a tree the caller wants whole, so it is
 * written into a caller-provided node array; a tree with more nodes than
 * the array holds is refused with IMPARSE_ETOOMANY.  Nesting is bounded by
 * the tokenizer's depth limit (at most IMPARSE_MAX_DEPTH), which also
 * bounds the recursion of the BODYSTRUCTURE parser.
 *
 * Return conventions: 0 (IMPARSE_OK) for success; iterators return 1 for
 * an item, 0 at the end; every error is negative.
 */
#ifndef CYRUS_IMPARSE_H
#define CYRUS_IMPARSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

enum imparse_err {
    IMPARSE_OK = 0,
    IMPARSE_ETRUNC = -1,      /* input ended inside a token, list or literal */
    IMPARSE_ESYNTAX = -2,     /* a byte that cannot stand here */
    IMPARSE_EOVERFLOW = -3,   /* a number above its type's maximum */
    IMPARSE_EDEPTH = -4,      /* nesting deeper than the limit */
    IMPARSE_EUNBALANCED = -5, /* ')' or ']' closing what it did not open */
    IMPARSE_EUNEXPECTED = -6, /* a valid token the grammar does not allow here */
    IMPARSE_ETOOMANY = -7,    /* more than the caller's array holds */
    IMPARSE_EBUFFER = -8      /* the caller's buffer is too small */
};

/* A short English name of an imparse_err code ("truncated input", ...). */
const char *imparse_strerror(int err);

/* ---------------------------------------------------------------------------
 * Tokenizer
 * ------------------------------------------------------------------------- */

enum imparse_type {
    IMPARSE_END,        /* no more input (only when every list is closed) */
    IMPARSE_ATOM,       /* includes \Flags, BODY[...]<n>, sequence sets */
    IMPARSE_NUMBER,     /* an atom of digits only; value in .number */
    IMPARSE_QUOTED,     /* data: the raw bytes between the quotes */
    IMPARSE_LITERAL,    /* {n}\r\n: data points at the n bytes */
    IMPARSE_LITERAL8,   /* ~{n}\r\n (RFC 3516): likewise */
    IMPARSE_NIL,
    IMPARSE_LIST_OPEN,  /* ( */
    IMPARSE_LIST_CLOSE, /* ) */
    IMPARSE_CODE_OPEN,  /* [ at the start of a token */
    IMPARSE_CODE_CLOSE  /* ] closing a [ */
};

/* A string as it appears: atom, number, quoted (raw, escapes kept),
 * literal, literal8, or NIL (data NULL, len 0). */
struct imparse_str {
    enum imparse_type type;
    const char *data;
    size_t len;
};

struct imparse_token {
    enum imparse_type type;
    const char *data; /* atom/number/quoted/literal bytes; NULL otherwise */
    size_t len;
    uint64_t number;  /* IMPARSE_NUMBER: its value (0 .. 2^64-1) */
    size_t pos;       /* offset of the token's first byte in the text */
};

/* Where a value lies: base[start .. end).  Positions are offsets from base,
 * which is always the start of the reply text. */
struct imparse_span {
    const char *base;
    size_t start, end;
};

#define IMPARSE_MAX_DEPTH 128     /* the highest nesting limit accepted */
#define IMPARSE_DEFAULT_DEPTH 64  /* what the helpers use */

/* The tokenizer's state.  Read it only through the functions below. */
struct imparse {
    const char *base;
    size_t pos, end;
    unsigned depth, maxdepth;
    int need_space;   /* the last token was a value: a separator must follow */
    int err;          /* first error, sticky */
    size_t errpos;
    unsigned char brackets[IMPARSE_MAX_DEPTH / 8]; /* bit set: '[' opened that level */
};

/* Tokenize text[0 .. len).  maxdepth: how many ( and [ may be open at once
 * (capped at IMPARSE_MAX_DEPTH). */
void imparse_init(struct imparse *p, const char *text, size_t len, unsigned maxdepth);
/* Tokenize one value a helper returned; positions stay relative to base. */
void imparse_init_span(struct imparse *p, const struct imparse_span *v, unsigned maxdepth);

/* The next token.  Returns 0, or a negative error (then every later call
 * returns the same error).  IMPARSE_END comes once all lists are closed
 * and only spaces remain. */
int imparse_next(struct imparse *p, struct imparse_token *t);
/* The token imparse_next would return, without consuming it. */
int imparse_peek(const struct imparse *p, struct imparse_token *t);
/* The first error and its offset; 0 if none. */
int imparse_error(const struct imparse *p, size_t *pos);

/* ---------------------------------------------------------------------------
 * Strings
 * ------------------------------------------------------------------------- */

/* The string a token holds (any type; non-strings give type and NULL). */
struct imparse_str imparse_token_str(const struct imparse_token *t);

/* The value of s into buf: quoted strings unescaped (\" and \\, RFC 3501
 * quoted-specials), other strings copied, NIL empty.  buf gets a NUL
 * after the value (literals may hold NULs of their own: use *len).
 * IMPARSE_EBUFFER if size < value length + 1; IMPARSE_ESYNTAX for a raw
 * quoted span with a bad escape. */
int imparse_str_copy(const struct imparse_str *s, char *buf, size_t size, size_t *len);

/* Nonzero if s's value equals the C string lit, ignoring ASCII case
 * (never the locale's).  NIL equals nothing. */
int imparse_str_eq(const struct imparse_str *s, const char *lit);

/* ---------------------------------------------------------------------------
 * Lists of strings: FLAGS, CAPABILITY, ENABLED, LIST attributes,
 * PERMANENTFLAGS, body languages; also body parameters, two at a time.
 * The span may be a parenthesized list, NIL (empty) or bare words.
 * ------------------------------------------------------------------------- */

struct imparse_iter {
    struct imparse tok;
    int in_list;   /* the span started with '(' */
    int done;
};

void imparse_iter_begin(struct imparse_iter *it, const struct imparse_span *v);
/* 1 and *s for each string, 0 at the end; nested lists are an error. */
int imparse_iter_next(struct imparse_iter *it, struct imparse_str *s);
/* 1 if the list holds name (ASCII case-insensitive), 0 if not, <0 error. */
int imparse_iter_has(const struct imparse_span *v, const char *name);

/* Body parameters (body-fld-param): "(" key SP value *(...) ")" / NIL. */
int imparse_params_next(struct imparse_iter *it, struct imparse_str *key,
                        struct imparse_str *value);
/* 1 and *value if key is present (case-insensitive), 0 if not, <0 error. */
int imparse_param_get(const struct imparse_span *params, const char *key,
                      struct imparse_str *value);

/* CAPABILITY and ENABLED reply text: space-separated atoms. */
void imparse_capability_begin(struct imparse_iter *it, const char *text, size_t len);
int imparse_capability_has(const char *text, size_t len, const char *name);

/* ---------------------------------------------------------------------------
 * Sequence sets (RFC 3501 sequence-set; also uid-set of RFC 4315)
 * ------------------------------------------------------------------------- */

#define IMPARSE_STAR 0 /* '*' as a range end: message numbers start at 1 */

struct imparse_seqset {
    const char *start, *p, *end;
    size_t base_pos;   /* offset of p in the reply text, for errors */
    int err;
    size_t errpos;
};

/* s: an atom or number such as 1:5,7,9:*.  base: the reply text, so that
 * error offsets count from it (NULL: from s->data). */
void imparse_seqset_begin(struct imparse_seqset *it, const struct imparse_str *s,
                          const char *base);
/* 1 and one range (lo <= hi unless one is IMPARSE_STAR; a single number
 * gives lo == hi), 0 at the end, <0 error; numbers are 32-bit. */
int imparse_seqset_next(struct imparse_seqset *it, uint32_t *lo, uint32_t *hi);

/* ---------------------------------------------------------------------------
 * FETCH: text is "(" msg-att ")" after "* n FETCH"
 * ------------------------------------------------------------------------- */

enum imparse_fetch_kind {
    IMPARSE_FETCH_OTHER,         /* unknown item: name and value only */
    IMPARSE_FETCH_UID,           /* .number */
    IMPARSE_FETCH_FLAGS,         /* .value: iterate with imparse_iter_begin */
    IMPARSE_FETCH_RFC822_SIZE,   /* .number */
    IMPARSE_FETCH_INTERNALDATE,  /* .string raw; see imparse_datetime */
    IMPARSE_FETCH_MODSEQ,        /* .number (RFC 7162) */
    IMPARSE_FETCH_ENVELOPE,      /* .value: see imparse_envelope */
    IMPARSE_FETCH_BODYSTRUCTURE, /* BODYSTRUCTURE or BODY without [: .value */
    IMPARSE_FETCH_BODY,          /* BODY[section]<origin>: .section, .string */
    IMPARSE_FETCH_BINARY,        /* BINARY[section]<origin> (RFC 3516) */
    IMPARSE_FETCH_BINARY_SIZE,   /* BINARY.SIZE[section]: .number */
    IMPARSE_FETCH_RFC822,        /* RFC822, RFC822.HEADER, RFC822.TEXT: .string */
    IMPARSE_FETCH_EMAILID,       /* EMAILID / THREADID (RFC 8474): .string */
    IMPARSE_FETCH_THREADID
};

struct imparse_fetch_item {
    enum imparse_fetch_kind kind;
    struct imparse_str name;    /* the item name as sent, e.g. BODY[1.MIME]<0> */
    struct imparse_str section; /* between [ and ] (may be empty) */
    int has_origin;
    uint64_t origin;            /* <origin> */
    uint64_t number;
    struct imparse_str string;  /* body bytes (literal, literal8, quoted or NIL) */
    struct imparse_span value;  /* the whole value as sent, every kind */
};

struct imparse_fetch {
    struct imparse tok;
    int done;
};

/* Reads the opening "(".  Then imparse_fetch_next gives 1 per item, 0 after
 * the closing ")" (with nothing after it), <0 on error; the error offset
 * is imparse_error(&f->tok, &pos). */
int imparse_fetch_begin(struct imparse_fetch *f, const char *text, size_t len);
int imparse_fetch_next(struct imparse_fetch *f, struct imparse_fetch_item *item);

/* date-time ("17-Jul-1996 02:44:25 -0700") from INTERNALDATE. */
struct imparse_datetime {
    int year, month, day;      /* month 1..12 */
    int hour, minute, second;
    int zone;                  /* minutes east of UTC: -0700 gives -420 */
};
int imparse_datetime(const struct imparse_str *s, struct imparse_datetime *dt);

/* ---------------------------------------------------------------------------
 * ENVELOPE
 * ------------------------------------------------------------------------- */

/* Strings are raw: RFC 2047 encoded words are not decoded. */
struct imparse_envelope {
    struct imparse_str date, subject;
    struct imparse_span from, sender, reply_to, to, cc, bcc; /* address lists */
    struct imparse_str in_reply_to, message_id;
};

/* v: the "(" ... ")" of an envelope (an item's .value).  *errpos may be NULL. */
int imparse_envelope(const struct imparse_span *v, struct imparse_envelope *env,
                     size_t *errpos);

enum imparse_addr_kind {
    IMPARSE_ADDR_MAILBOX,     /* an ordinary address */
    IMPARSE_ADDR_GROUP_START, /* host NIL, mailbox = the group's name */
    IMPARSE_ADDR_GROUP_END    /* host NIL, mailbox NIL */
};

struct imparse_address {
    enum imparse_addr_kind kind;
    struct imparse_str name, adl, mailbox, host;
};

/* Iterate one address list of an envelope (NIL is an empty list). */
void imparse_addresses_begin(struct imparse_iter *it, const struct imparse_span *list);
int imparse_addresses_next(struct imparse_iter *it, struct imparse_address *a);

/* ---------------------------------------------------------------------------
 * BODYSTRUCTURE / BODY: a tree in a caller-provided array, nodes in
 * pre-order (node 0 is the root; a part's children follow it).
 * ------------------------------------------------------------------------- */

struct imparse_body {
    int parent, first_child, next_sibling; /* node indexes, -1 for none */
    unsigned depth;                         /* 0 for the root */
    int multipart;
    struct imparse_str type;       /* single part only, e.g. "TEXT" */
    struct imparse_str subtype;    /* "PLAIN", or multipart's "MIXED" */
    struct imparse_span params;    /* body-fld-param, NIL if absent */
    /* single part */
    struct imparse_str id, description, encoding;
    uint64_t size;
    int has_lines;
    uint64_t lines;                /* TEXT and MESSAGE/RFC822 parts */
    int has_envelope;              /* message/rfc822 (and message/global) */
    struct imparse_envelope envelope;
    /* extension data (absent fields: type NIL and empty spans) */
    struct imparse_str md5;
    struct imparse_str disposition;       /* e.g. "attachment" */
    struct imparse_span disposition_params;
    struct imparse_span language;         /* nstring or list: iterate */
    struct imparse_str location;
    struct imparse_span extension;        /* everything after the basic fields */
};

/* v: the value of a BODYSTRUCTURE or BODY item.  Fills nodes[0 .. *count).
 * IMPARSE_ETOOMANY when the tree has more than max nodes.  With nodes
 * NULL it only checks the value and counts its nodes (to size an array). */
int imparse_bodystructure(const struct imparse_span *v, struct imparse_body *nodes,
                          size_t max, size_t *count, size_t *errpos);

/* ---------------------------------------------------------------------------
 * LIST / LSUB (and XLIST): "(" attrs ")" SP delimiter SP mailbox [SP ext]
 * ------------------------------------------------------------------------- */

struct imparse_list {
    struct imparse_span attributes; /* iterate; imparse_iter_has(&l.attributes, "\\Noselect") */
    struct imparse_str delimiter;   /* quoted one character, or NIL */
    char delim;                     /* the delimiter unescaped, '\0' for NIL */
    struct imparse_str mailbox;     /* raw: modified UTF-7 is not converted */
    struct imparse_span extended;   /* RFC 5258 extended data, empty if none */
};
int imparse_list(const char *text, size_t len, struct imparse_list *out, size_t *errpos);

/* ---------------------------------------------------------------------------
 * STATUS: mailbox SP "(" *(attr SP number) ")"
 * ------------------------------------------------------------------------- */

struct imparse_status {
    struct imparse tok;
    int done;
    struct imparse_str mailbox;  /* raw, like LIST's */
};
/* Reads the mailbox and the "(".  Error offset: imparse_error(&s->tok, ..) */
int imparse_status_begin(struct imparse_status *s, const char *text, size_t len);
/* 1 and one pair (MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN, RECENT,
 * HIGHESTMODSEQ, SIZE, DELETED, ...), 0 at the end, <0 error.  A value
 * that is not a number (RFC 8474's MAILBOXID (id)) gives *value 0 and is
 * in *raw; raw may be NULL. */
int imparse_status_next(struct imparse_status *s, struct imparse_str *attr,
                        uint64_t *value, struct imparse_span *raw);

/* ---------------------------------------------------------------------------
 * SEARCH: *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]
 * ------------------------------------------------------------------------- */

struct imparse_search {
    struct imparse tok;
    int done;
    int has_modseq;    /* valid once imparse_search_next returned 0 */
    uint64_t modseq;
};
void imparse_search_begin(struct imparse_search *s, const char *text, size_t len);
int imparse_search_next(struct imparse_search *s, uint64_t *number);

/* ---------------------------------------------------------------------------
 * ESEARCH (RFC 4731): [search-correlator] [SP "UID"] *(SP return-data)
 * ------------------------------------------------------------------------- */

struct imparse_esearch {
    struct imparse_str tag;   /* the correlator's tag, NIL if none */
    int uid;
    int has_min, has_max, has_count, has_modseq;
    uint64_t min, max, count, modseq;
    struct imparse_str all;   /* the ALL sequence set, NIL if none */
    struct imparse_span span; /* where ALL lies, for imparse_seqset_begin */
};
int imparse_esearch(const char *text, size_t len, struct imparse_esearch *out,
                    size_t *errpos);

/* ---------------------------------------------------------------------------
 * Response codes at the start of status text: "[" code "]" SP text
 * ------------------------------------------------------------------------- */

enum imparse_code_kind {
    IMPARSE_CODE_OTHER,          /* unknown: name and raw data */
    IMPARSE_CODE_ALERT,
    IMPARSE_CODE_CAPABILITY,     /* iterate data with imparse_iter_begin */
    IMPARSE_CODE_PERMANENTFLAGS, /* iterate data */
    IMPARSE_CODE_UIDVALIDITY,    /* number */
    IMPARSE_CODE_UIDNEXT,        /* number */
    IMPARSE_CODE_UNSEEN,         /* number */
    IMPARSE_CODE_HIGHESTMODSEQ,  /* number (RFC 7162) */
    IMPARSE_CODE_APPENDUID,      /* number = uidvalidity, set1 = new UIDs */
    IMPARSE_CODE_COPYUID,        /* number = uidvalidity, set1 source, set2 dest */
    IMPARSE_CODE_READ_ONLY,
    IMPARSE_CODE_READ_WRITE,
    IMPARSE_CODE_TRYCREATE
};

struct imparse_code {
    enum imparse_code_kind kind;
    struct imparse_str name;  /* e.g. "UIDNEXT" */
    struct imparse_span data; /* raw bytes between the name and ']' */
    uint64_t number;
    struct imparse_str set1, set2; /* uid sets: imparse_seqset_begin */
    struct imparse_str text;  /* the human-readable rest */
};

/* 1 and *out when text starts with a response code, 0 when it does not
 * (out->text is then the whole text), <0 error. */
int imparse_code(const char *text, size_t len, struct imparse_code *out, size_t *errpos);

#ifdef __cplusplus
}
#endif

#endif
