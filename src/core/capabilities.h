/*
 * What the server said it can do, learnt from the greeting, CAPABILITY
 * replies and [CAPABILITY ...] codes, and what ENABLE turned on.  The
 * session forgets the list whenever it may have changed or may have been
 * forged (STARTTLS, LOGIN, AUTHENTICATE, a security layer); until the
 * server speaks again nothing is assumed, so literals stay synchronizing.
 */
#ifndef IMC_CAPABILITIES_H
#define IMC_CAPABILITIES_H

#include <stddef.h>

#include "util/buf.h"

/* The capabilities the encoder acts on. */
enum {
    IMC_CAP_LITERALPLUS = 1,  /* RFC 7888: any literal may be {n+} */
    IMC_CAP_LITERALMINUS = 2, /* RFC 7888: {n+} up to 4096 bytes */
    IMC_CAP_BINARY = 4,       /* RFC 3516: literal8 in APPEND */
    IMC_CAP_UTF8ACCEPT = 8    /* RFC 6855: offered (bits) or enabled */
};

/* Longest list kept for imclient_hascapability(); atoms past it still set
 * their bits, but are not remembered by name. */
#define IMC_CAPS_LIST_MAX 4096

struct imc_caps {
    int known;         /* a list arrived since the last forget */
    int truncated;     /* the list went past IMC_CAPS_LIST_MAX */
    unsigned bits;     /* IMC_CAP_* the list names */
    unsigned enabled;  /* IMC_CAP_UTF8ACCEPT once ENABLED */
    struct imc_buf list; /* upper-case atoms, each followed by one space */
};

void imc_caps_init(struct imc_caps *c);
void imc_caps_free(struct imc_caps *c);

/* Replace what is known with the atoms of text[0..len), up to a "]" or
 * the end (the text of a CAPABILITY reply, or a code's after its name). */
void imc_caps_learn(struct imc_caps *c, const char *text, size_t len);
/* Add them to what is known (a list split over several replies). */
void imc_caps_add(struct imc_caps *c, const char *text, size_t len);
/* Add what an ENABLED reply lists. */
void imc_caps_enabled(struct imc_caps *c, const char *text, size_t len);
/* The list may no longer be true; what ENABLE turned on stays on. */
void imc_caps_forget(struct imc_caps *c);

/* dst becomes a copy of src (dst initialised, its old list freed). */
void imc_caps_copy(struct imc_caps *dst, const struct imc_caps *src);

/* 1 if the name is listed, 0 if not, -1 when no list is known (or it was
 * cut short and the name is not in the part kept). */
int imc_caps_has(const struct imc_caps *c, const char *name, size_t len);

#endif
