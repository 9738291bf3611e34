/* imapurl_fromURL/imapurl_toURL come with the 3.x interface. */
#include "lib/imclient.h"
