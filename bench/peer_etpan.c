/*
 * The libetpan peer (Debian's libetpan-dev, its mailimap API) for the same
 * workloads, with what libetpan offers for each:
 *
 *   W1  mailimap_fetch() of BODY[]; each message of its list is checked
 *   W2  mailimap_fetch() of (UID FLAGS); each message of its list is counted
 *   W3  libetpan cannot pipeline: every mailimap_noop() waits for its reply
 *   W4  mailimap_set_msg_body_handler(), its streaming of body sections
 *   W5  mailimap_append(), which waits for the literal's "+"
 *
 * mailimap_fetch() returns every message in one list when the command is
 * over; peak RSS shows what holding them costs.  (1.9.4 does not call a
 * handler set with mailimap_set_msg_att_handler() from mailimap_fetch(), so
 * the per-message work runs on that list, once per message as for the
 * other peers.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "peer_client.h"

static mailimap *imap;

struct tally_state {
    const struct peer_job *job;
    struct peer_tally *t;
    uint32_t next_msgno;
    uint64_t wrong;
    uint64_t piece_off; /* W4: bytes of the current literal seen so far */
};

int peer_connect(const struct peer_job *job, char *why, size_t whylen)
{
    imap = mailimap_new(0, NULL);
    if (!imap) {
        snprintf(why, whylen, "mailimap_new failed");
        return -1;
    }
    int r = mailimap_socket_connect(imap, "127.0.0.1", (uint16_t)atoi(job->port));
    if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
        snprintf(why, whylen, "mailimap_socket_connect: %d", r);
        return -1;
    }
    /* libetpan fetches only in the selected state */
    if (job->workload != PEER_W3 && job->workload != PEER_W5 &&
        (r = mailimap_select(imap, "INBOX")) != MAILIMAP_NO_ERROR) {
        snprintf(why, whylen, "mailimap_select: %d", r);
        return -1;
    }
    return 0;
}

void peer_close(void)
{
    if (imap)
        mailimap_free(imap);
}

static const struct mailimap_msg_att_body_section *body_of(struct mailimap_msg_att *att)
{
    for (clistiter *i = clist_begin(att->att_list); i; i = clist_next(i)) {
        struct mailimap_msg_att_item *item = clist_content(i);
        if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
            item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
            return item->att_data.att_static->att_data.att_body_section;
    }
    return NULL;
}

static void on_message(struct mailimap_msg_att *att, void *rock)
{
    struct tally_state *st = rock;
    st->t->items++;
    if (att->att_number != st->next_msgno)
        st->wrong++;
    st->next_msgno++;
    if (st->job->workload != PEER_W1)
        return;
    const struct mailimap_msg_att_body_section *b = body_of(att);
    if (!b || b->sec_length != st->job->literal || b->sec_body_part[0] != peer_byte_at(0))
        st->wrong++;
    else
        st->t->bytes += b->sec_length;
}

/* Returning true tells libetpan the bytes are taken care of, so it does
 * not keep them. */
static bool on_body_bytes(int type, struct mailimap_msg_att_body_section *section,
                          const char *bytes, size_t length, void *rock)
{
    struct tally_state *st = rock;
    (void)type;
    (void)section;
    if (length && bytes[0] != peer_byte_at(st->piece_off))
        st->wrong++;
    st->piece_off = (st->piece_off + length) % st->job->literal;
    st->t->bytes += length;
    return true;
}

static int fetch(struct tally_state *st)
{
    struct mailimap_set *set = mailimap_set_new_interval(1, (uint32_t)st->job->count);
    struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
    if (st->job->workload == PEER_W2) {
        mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid());
        mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_flags());
    } else {
        mailimap_fetch_type_new_fetch_att_list_add(
            type, mailimap_fetch_att_new_body_section(mailimap_section_new(NULL)));
    }
    if (st->job->workload == PEER_W4)
        mailimap_set_msg_body_handler(imap, on_body_bytes, st);
    clist *result = NULL;
    int r = mailimap_fetch(imap, set, type, &result);
    if (result) {
        for (clistiter *i = clist_begin(result); i; i = clist_next(i))
            on_message(clist_content(i), st);
        mailimap_fetch_list_free(result);
    }
    mailimap_fetch_type_free(type);
    mailimap_set_free(set);
    return r;
}

int peer_work(const struct peer_job *job, struct peer_tally *t, char *why, size_t whylen)
{
    struct tally_state st;
    memset(&st, 0, sizeof st);
    st.job = job;
    st.t = t;
    st.next_msgno = 1;
    int r = MAILIMAP_NO_ERROR;
    switch (job->workload) {
    case PEER_W3:
        for (uint64_t i = 0; i < job->count && r == MAILIMAP_NO_ERROR; i++)
            if ((r = mailimap_noop(imap)) == MAILIMAP_NO_ERROR)
                t->items++;
        break;
    case PEER_W5:
        r = mailimap_append(imap, "INBOX", NULL, NULL, job->payload, job->count);
        if (r == MAILIMAP_NO_ERROR) {
            t->items = 1;
            t->bytes = job->count;
        }
        break;
    default:
        r = fetch(&st);
        break;
    }
    if (r != MAILIMAP_NO_ERROR || st.wrong || !peer_tally_complete(job, t)) {
        snprintf(why, whylen, "libetpan error %d, %llu items (%llu wrong), %llu bytes", r,
                 (unsigned long long)t->items, (unsigned long long)st.wrong,
                 (unsigned long long)t->bytes);
        return -1;
    }
    return 0;
}
