/*
 * The untagged-reply callback table of imclient_addcallback().
 *
 * An entry is keyed by keyword (compared without regard to ASCII case, as
 * IMAP keywords are) and by whether it takes numbered replies.  Keyword "" is the
 * default that takes what no other entry does.  An entry whose proc is NULL
 * swallows its replies.
 */
#ifndef IMC_CALLBACKS_H
#define IMC_CALLBACKS_H

#include <stddef.h>
#include <stdint.h>

#include "cyrus/imclient.h"
#include "util/ascii.h"

struct imc_callback {
    char *keyword;
    size_t kwlen;
    uint64_t key; /* imc_ascii_key() of keyword */
    int flags;
    imclient_proc_t *proc;
    void *rock;
    imclient_literal_proc_t *lit_proc; /* streams literals when set */
    void *lit_rock;
};

struct imc_callbacks {
    struct imc_callback *entries;
    size_t count, cap;
    size_t hint; /* the entry found last: replies come in runs of one keyword */
};

void imc_callbacks_init(struct imc_callbacks *t);
void imc_callbacks_free(struct imc_callbacks *t);
/* Add an entry, or replace the one with the same keyword and NUMBERED flag. */
void imc_callbacks_set(struct imc_callbacks *t, const char *keyword, int flags,
                       imclient_proc_t *proc, void *rock);
/* The entry with exactly this keyword and NUMBERED flag, or NULL. */
const struct imc_callback *imc_callbacks_get(const struct imc_callbacks *t,
                                             const char *keyword, size_t kwlen,
                                             int numbered);
/* Set the literal streamer of an entry, adding the entry (with no reply
 * proc) if there is none. */
void imc_callbacks_setliteral(struct imc_callbacks *t, const char *keyword, int flags,
                              imclient_literal_proc_t *proc, void *rock);
/* Remove the entry with this keyword and NUMBERED flag, if there is one. */
void imc_callbacks_remove(struct imc_callbacks *t, const char *keyword, int flags);
/* Give back the room removed entries left.  Entry pointers do not survive it. */
void imc_callbacks_trim(struct imc_callbacks *t);
/* The entry for a reply: exact keyword first, then the default; NULL if none. */
const struct imc_callback *imc_callbacks_search(struct imc_callbacks *t,
                                                const char *keyword, size_t kwlen,
                                                int numbered);

/* imc_callbacks_search(), trying the entry found last first, inline: a run
 * of replies with one keyword then costs one comparison each.  key is
 * imc_ascii_key() of the keyword, which settles it when it is short. */
static inline const struct imc_callback *
imc_callbacks_find(struct imc_callbacks *t, const char *keyword, size_t kwlen,
                   uint64_t key, int numbered)
{
    if (t->hint < t->count) {
        const struct imc_callback *h = &t->entries[t->hint];
        if (h->kwlen == kwlen && h->key == key &&
            ((h->flags & CALLBACK_NUMBERED) != 0) == numbered &&
            (kwlen <= 8 || imc_ascii_eq(h->keyword, keyword, kwlen)))
            return h;
    }
    return imc_callbacks_search(t, keyword, kwlen, numbered);
}

#endif
