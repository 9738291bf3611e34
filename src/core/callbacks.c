#include "core/callbacks.h"

#include <string.h>
#include <strings.h>

#include "cyrus/xmalloc.h"

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

const struct imc_callback *imc_callbacks_get(const struct imc_callbacks *t,
                                             const char *kw, size_t kwlen, int num)
{
    for (size_t i = 0; i < t->count; i++) {
        const struct imc_callback *e = &t->entries[i];
        if (numbered(e->flags) == num && strlen(e->keyword) == kwlen &&
            strncasecmp(e->keyword, kw, kwlen) == 0)
            return e;
    }
    return NULL;
}

void imc_callbacks_set(struct imc_callbacks *t, const char *keyword, int flags,
                       imclient_proc_t *proc, void *rock)
{
    struct imc_callback *e =
        (struct imc_callback *)imc_callbacks_get(t, keyword, strlen(keyword), numbered(flags));
    if (!e) {
        if (t->count == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 8;
            t->entries = xrealloc(t->entries, t->cap * sizeof *t->entries);
        }
        e = &t->entries[t->count++];
        e->keyword = xstrdup(keyword);
    }
    e->flags = flags;
    e->proc = proc;
    e->rock = rock;
}

const struct imc_callback *imc_callbacks_find(const struct imc_callbacks *t,
                                              const char *keyword, size_t kwlen,
                                              int num)
{
    const struct imc_callback *e = imc_callbacks_get(t, keyword, kwlen, num);
    if (!e)
        e = imc_callbacks_get(t, "", 0, num);
    if (!e)
        e = imc_callbacks_get(t, "", 0, !num);
    return e;
}
