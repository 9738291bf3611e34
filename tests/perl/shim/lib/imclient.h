/* Cyrus's perl/imap includes "lib/imclient.h" from its own tree; here it
 * gets the library's Cyrus 3.x interface instead. */
#ifndef IMC_PERL_SHIM_IMCLIENT_H
#define IMC_PERL_SHIM_IMCLIENT_H
#define IMCLIENT_CYRUS3 1
#include <cyrus/imclient.h>
#endif
