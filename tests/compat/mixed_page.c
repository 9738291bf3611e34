/*
 * The page-API half of one program whose other half (mixed_cyrus3.c) is
 * written for Cyrus 3.x: both forms of imclient_connect() and
 * imclient_authenticate() live in the one libcyrus.so.1.
 */
#include <cyrus/imclient.h>

int cyrus3_side(void);

typedef int page_authenticate_t(struct imclient *, struct sasl_client **, const char *,
                                const char *, int);

int main(void)
{
    struct imclient *c;
    if (imclient_connect(&c, "bad_host..invalid", "imap") != -1)
        return 1;
    page_authenticate_t *authenticate = imclient_authenticate;
    if (!authenticate)
        return 2;
    int r = cyrus3_side();
    if (r != 0)
        return 10 + r;
    printf("mixed: ok\n");
    return 0;
}
