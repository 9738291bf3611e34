/* The Cyrus 3.x half of the program of mixed_page.c. */
#define IMCLIENT_CYRUS3
#include <cyrus/imclient.h>
#include <stdlib.h>
#include <string.h>

int cyrus3_side(void);

typedef int cyrus3_authenticate_t(struct imclient *, char *, char *, char *, int, int);

int cyrus3_side(void)
{
    struct imclient *c;
    sasl_callback_t cbs[] = { { SASL_CB_LIST_END, NULL, NULL } };
    if (imclient_connect(&c, "bad_host..invalid", "imap", cbs) != -1)
        return 1;
    cyrus3_authenticate_t *authenticate = imclient_authenticate;
    if (!authenticate)
        return 2;
    struct imapurl url;
    if (imapurl_fromURL(&url, "imap://mail.example.org/INBOX") != 0 ||
        strcmp(url.server, "mail.example.org") != 0 || strcmp(url.mailbox, "INBOX") != 0)
        return 3;
    free(url.freeme);
    return 0;
}
