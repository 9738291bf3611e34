/*
 * Whether two parsed IMAP URLs hold the same fields, for the checks that
 * a built URL parses back to what it was built from: used by
 * tests/unit/test_imapurl.c and fuzz/fuzz_imapurl.c, so a field added to
 * struct imapurl is compared by both once it is added here.
 */
#ifndef IMC_SAME_URL_H
#define IMC_SAME_URL_H

#include <string.h>

#include <cyrus/imapurl.h>

/* Both NULL, or both strings and equal. */
static inline int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static inline int same_url(const struct imapurl *a, const struct imapurl *b)
{
    return same_str(a->user, b->user) && same_str(a->auth, b->auth) &&
           same_str(a->host, b->host) && a->port == b->port &&
           same_str(a->mailbox, b->mailbox) && same_str(a->mailbox_utf8, b->mailbox_utf8) &&
           a->uidvalidity == b->uidvalidity && same_str(a->search, b->search) &&
           a->uid == b->uid && same_str(a->section, b->section) &&
           a->has_partial == b->has_partial && a->start_octet == b->start_octet &&
           a->octet_count == b->octet_count &&
           same_str(a->urlauth.expire, b->urlauth.expire) &&
           same_str(a->urlauth.access, b->urlauth.access) &&
           same_str(a->urlauth.mech, b->urlauth.mech) &&
           same_str(a->urlauth.token, b->urlauth.token);
}

#endif
