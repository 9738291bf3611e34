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
 * The pull tokenizer (imparse_init / imparse_next) reads anything.
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

#ifdef __cplusplus
}
#endif

#endif
