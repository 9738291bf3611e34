/* envelope = "(" env-date SP env-subject SP env-from SP env-sender SP
 * env-reply-to SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP
 * env-message-id ")" (RFC 3501), and its address lists. */
#include "parse/parse_internal.h"

/* env-from etc. = "(" 1*address ")" / nil */
static int address_list(struct imparse *p, struct imparse_span *list)
{
    struct imparse_token first;
    int r = imp_value(p, list, &first);
    if (r)
        return r;
    if (first.type != IMPARSE_LIST_OPEN && first.type != IMPARSE_NIL)
        return imp_fail(p, IMPARSE_EUNEXPECTED, first.pos);
    return imp_check_addresses(p, list);
}

int imp_envelope(struct imparse *p, struct imparse_envelope *env)
{
    struct imparse_token t;
    struct imparse_span *lists[] = { &env->from, &env->sender, &env->reply_to,
                                     &env->to, &env->cc, &env->bcc };
    int r = imp_expect(p, IMPARSE_LIST_OPEN, &t);
    if (r || (r = imp_nstring(p, &env->date)) || (r = imp_nstring(p, &env->subject)))
        return r;
    for (size_t i = 0; i < 6; i++)
        if ((r = address_list(p, lists[i])) != 0)
            return r;
    if ((r = imp_nstring(p, &env->in_reply_to)) || (r = imp_nstring(p, &env->message_id)))
        return r;
    return imp_expect(p, IMPARSE_LIST_CLOSE, &t);
}

int imparse_envelope(const struct imparse_span *v, struct imparse_envelope *env,
                     size_t *errpos)
{
    struct imparse p;
    imparse_init_span(&p, v, IMPARSE_MAX_DEPTH);
    int r = imp_envelope(&p, env);
    if (r == 0)
        r = imp_expect_end(&p);
    imparse_error(&p, errpos);
    return r;
}

void imparse_addresses_begin(struct imparse_iter *it, const struct imparse_span *list)
{
    imparse_iter_begin(it, list);
}

/* address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")";
 * a NIL host marks RFC 2822 group syntax: with a mailbox it starts the
 * group named by it, without one it ends the group. */
static int address(struct imparse *p, struct imparse_address *a)
{
    struct imparse_token t;
    int r;
    if ((r = imp_nstring(p, &a->name)) || (r = imp_nstring(p, &a->adl))
        || (r = imp_nstring(p, &a->mailbox)) || (r = imp_nstring(p, &a->host))
        || (r = imp_expect(p, IMPARSE_LIST_CLOSE, &t)))
        return r;
    a->kind = a->host.type != IMPARSE_NIL ? IMPARSE_ADDR_MAILBOX
              : a->mailbox.type != IMPARSE_NIL ? IMPARSE_ADDR_GROUP_START
              : IMPARSE_ADDR_GROUP_END;
    return 1;
}

int imparse_addresses_next(struct imparse_iter *it, struct imparse_address *a)
{
    struct imparse_token t;
    if (it->done)
        return it->tok.err;
    int r = imparse_next(&it->tok, &t);
    if (r)
        return r;
    if ((it->in_list && t.type == IMPARSE_LIST_CLOSE) || (!it->in_list && t.type == IMPARSE_END)) {
        it->done = 1;
        return t.type == IMPARSE_END ? 0 : imp_expect_end(&it->tok);
    }
    if (!it->in_list || t.type != IMPARSE_LIST_OPEN)
        return imp_fail(&it->tok, IMPARSE_EUNEXPECTED, t.pos);
    return address(&it->tok, a);
}

int imp_check_addresses(struct imparse *p, const struct imparse_span *v)
{
    struct imparse_iter it;
    struct imparse_address a;
    int r;
    imparse_addresses_begin(&it, v);
    while ((r = imparse_addresses_next(&it, &a)) == 1)
        ;
    return r < 0 ? imp_fail(p, r, it.tok.errpos) : 0;
}
