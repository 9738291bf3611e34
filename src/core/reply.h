/*
 * The head of a response: whether it is tagged, untagged or a continuation
 * request, and where its number, keyword and text lie in the first line.
 * Nothing here allocates; offsets index the line as given.
 */
#ifndef IMC_REPLY_H
#define IMC_REPLY_H

#include <stddef.h>
#include <stdint.h>

enum imc_reply_kind {
    IMC_REPLY_UNTAGGED,     /* "* [n] KEYWORD text" */
    IMC_REPLY_TAGGED,       /* "tag STATUS text" */
    IMC_REPLY_CONTINUATION  /* "+ text" or "+" */
};

enum imc_status { IMC_STATUS_NONE, IMC_STATUS_OK, IMC_STATUS_NO, IMC_STATUS_BAD };

struct imc_reply_head {
    enum imc_reply_kind kind;
    uint64_t tag;          /* TAGGED */
    enum imc_status status; /* TAGGED */
    long msgno;            /* UNTAGGED: -1 when absent */
    size_t kw_start, kw_len; /* keyword (UNTAGGED, TAGGED) */
    uint64_t kw_key;       /* its first 8 bytes upper-cased, packed (imc_ascii_key()) */
    int kw_lower;          /* it has a lower-case letter */
    size_t text_start;     /* first byte of the text */
};

/*
 * Parse the first line of a response.  Returns 0, or -1 with a reason in
 * err when the line is not a response this client can accept: a tag that is
 * not one of ours in form (we send decimal tags), a status other than
 * OK/NO/BAD, a number that overflows, a missing keyword.  err may be NULL
 * when the caller only needs to know.
 */
int imc_reply_parse(const char *line, size_t len, struct imc_reply_head *h,
                    char *err, size_t errlen);

#endif
