#include "core/callbacks.h"

#include <string.h>

#include "cyrus/xmalloc.h"
#include "util/ascii.h"

void imc_callbacks_init(struct imc_callbacks *t)
{
    memset(t, 0, sizeof *t);
}

void imc_callbacks_free(struct imc_callbacks *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->entries[i].keyword);
    free(t->entries);
    memset(t, 0, sizeof *t);
}

static int numbered(int flags)
{
    return (flags & CALLBACK_NUMBERED) != 0;
}

/* Length and flag first: most entries differ there, before any byte. */
static struct imc_callback *lookup(const struct imc_callbacks *t, const char *kw,
                                   size_t kwlen, int num)
{
    for (size_t i = 0; i < t->count; i++) {
        struct imc_callback *e = &t->entries[i];
        if (e->kwlen == kwlen && numbered(e->flags) == num &&
            imc_ascii_eq(e->keyword, kw, kwlen))
            return e;
    }
    return NULL;
}

const struct imc_callback *imc_callbacks_get(const struct imc_callbacks *t,
                                             const char *kw, size_t kwlen, int num)
{
    return lookup(t, kw, kwlen, num);
}

static struct imc_callback *entry_for(struct imc_callbacks *t, const char *keyword,
                                      int flags)
{
    size_t kwlen = strlen(keyword);
    struct imc_callback *e = lookup(t, keyword, kwlen, numbered(flags));
    if (!e) {
        if (t->count == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 8;
            t->entries = xrealloc(t->entries, t->cap * sizeof *t->entries);
        }
        e = &t->entries[t->count++];
        memset(e, 0, sizeof *e);
        e->keyword = xstrdup(keyword);
        e->kwlen = kwlen;
        e->key = imc_ascii_key(keyword, kwlen);
        /* Matching reads the NUMBERED bit from here, so an entry made by
         * imclient_addliteralcallback() alone must carry it too. */
        e->flags = flags;
    }
    return e;
}

void imc_callbacks_set(struct imc_callbacks *t, const char *keyword, int flags,
                       imclient_proc_t *proc, void *rock)
{
    struct imc_callback *e = entry_for(t, keyword, flags);
    e->flags = flags;
    e->proc = proc;
    e->rock = rock;
}

void imc_callbacks_setliteral(struct imc_callbacks *t, const char *keyword, int flags,
                              imclient_literal_proc_t *proc, void *rock)
{
    struct imc_callback *e = entry_for(t, keyword, flags);
    e->lit_proc = proc;
    e->lit_rock = rock;
}

void imc_callbacks_remove(struct imc_callbacks *t, const char *keyword, int flags)
{
    struct imc_callback *e = lookup(t, keyword, strlen(keyword), numbered(flags));
    if (!e)
        return;
    free(e->keyword);
    size_t i = (size_t)(e - t->entries);
    memmove(e, e + 1, (t->count - i - 1) * sizeof *e);
    t->count--;
}

void imc_callbacks_trim(struct imc_callbacks *t)
{
    if (t->count > t->cap / 2)
        return;
    if (t->count == 0) {
        free(t->entries);
        t->entries = NULL;
    } else
        t->entries = xrealloc(t->entries, t->count * sizeof *t->entries);
    t->cap = t->count;
}

const struct imc_callback *imc_callbacks_search(struct imc_callbacks *t,
                                                const char *keyword, size_t kwlen,
                                                int num)
{
    const struct imc_callback *e = imc_callbacks_get(t, keyword, kwlen, num);
    if (e)
        t->hint = (size_t)(e - t->entries);
    if (!e)
        e = imc_callbacks_get(t, "", 0, num);
    if (!e)
        e = imc_callbacks_get(t, "", 0, !num);
    return e;
}
