/*
 * A Cyrus 3.x mechanism list ("SCRAM-SHA-256 PLAIN GSSAPI", as a program
 * collects it from CAPABILITY) as the descriptors imclient_authenticate()
 * takes.
 *
 * Cyrus 3.x handed the whole list to sasl_client_start(), which picks the
 * mechanism it rates best, and tried the rest after a failure.  The
 * library tries descriptors in order, so the list is put in libsasl2's
 * order first: the strongest security layer a plugin can give, then the
 * plugins that keep the password off the wire.  Names no plugin provides
 * go last, where they fail as unavailable.
 */
#include "compat/compat.h"

#include <sasl/saslplug.h>
#include <stdlib.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "util/ascii.h"

struct ranked {
    struct sasl_client d;
    int known;           /* a plugin provides it */
    unsigned max_ssf;
    int keeps_password;  /* SASL_SEC_NOPLAINTEXT */
    size_t order;        /* place in the caller's list, for ties */
};

static void note_plugin(client_sasl_mechanism_t *m, sasl_info_callback_stage_t stage,
                        void *rock)
{
    struct ranked *r = rock;
    if (stage != SASL_INFO_LIST_MECH || !m || !m->plug)
        return;
    r->known = 1;
    r->max_ssf = m->plug->max_ssf;
    r->keeps_password = (m->plug->security_flags & SASL_SEC_NOPLAINTEXT) != 0;
}

static int better_first(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    if (a->known != b->known)
        return b->known - a->known;
    if (a->max_ssf != b->max_ssf)
        return a->max_ssf > b->max_ssf ? -1 : 1;
    if (a->keeps_password != b->keeps_password)
        return b->keeps_password - a->keeps_password;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* SASL mechanism names are upper-case letters, digits, '-' and '_'
 * (RFC 4422 3.1); anything else separates them. */
static int name_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

static int seen(const struct ranked *r, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].d.name, name) == 0)
            return 1;
    return 0;
}

/* The next name in *p, upper-cased, with an "AUTH=" prefix dropped; NULL
 * at the end of the list. */
static char *next_name(const char **p)
{
    const char *s = *p, *start;
    for (;;) {
        while (*s && !name_char(*s))
            s++;
        if (!*s) {
            *p = s;
            return NULL;
        }
        start = s;
        while (name_char(*s))
            s++;
        if (*s == '=' && s - start == 4 && imc_ascii_eq(start, "AUTH", 4)) {
            start = ++s;
            while (name_char(*s))
                s++;
        }
        if (s > start)
            break;
    }
    *p = s;
    char *name = xstrndup(start, (size_t)(s - start));
    for (char *q = name; *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    return name;
}

struct sasl_client **imc_cyrus3_mechs(const char *mechlist)
{
    size_t n = 0, cap = 0;
    struct ranked *r = NULL;
    const char *p = mechlist ? mechlist : "";
    for (char *name; (name = next_name(&p)) != NULL;) {
        if (seen(r, n, name)) {
            free(name);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            r = xrealloc(r, cap * sizeof *r);
        }
        r[n] = (struct ranked){ .d = { name, 0 }, .order = n };
        sasl_client_plugin_info(name, note_plugin, &r[n]);
        n++;
    }
    if (n == 0)
        return NULL;
    qsort(r, n, sizeof *r, better_first);
    /* One block: the pointer array, then the descriptors it points to. */
    struct sasl_client **mechs = xmalloc((n + 1) * sizeof *mechs + n * sizeof **mechs);
    struct sasl_client *d = (struct sasl_client *)(mechs + n + 1);
    for (size_t i = 0; i < n; i++) {
        d[i] = r[i].d;
        mechs[i] = &d[i];
    }
    mechs[n] = NULL;
    free(r);
    return mechs;
}

void imc_cyrus3_mechs_free(struct sasl_client **mechs)
{
    if (!mechs)
        return;
    for (size_t i = 0; mechs[i]; i++)
        free((char *)mechs[i]->name);
    free(mechs);
}
