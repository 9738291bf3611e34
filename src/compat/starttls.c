/*
 * STARTTLS with Cyrus 3.x's reading of its CA arguments.  The page's
 * imclient_starttls() refuses "" (an empty setting would otherwise widen
 * trust silently); a 3.x program means by it "no file of my own", so here
 * it becomes NULL, and with both NULL the system's CAs verify the server.
 */
#include "compat/compat.h"

static char *none_if_empty(char *s)
{
    return s && !*s ? NULL : s;
}

int imclient_starttls_cyrus3(struct imclient *imclient, char *cert_file, char *key_file,
                             char *CAfile, char *CApath)
{
    return imclient_starttls(imclient, none_if_empty(cert_file), none_if_empty(key_file),
                             none_if_empty(CAfile), none_if_empty(CApath));
}
