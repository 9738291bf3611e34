/*
 * Host names as DNS, SNI and certificates carry them.  A name given in
 * Unicode (UTF-8) is looked up and verified by its A-label form
 * ("bücher.example" is "xn--bcher-kva.example"); pure-ASCII names and
 * addresses are used exactly as given.
 */
#ifndef IMC_IDN_H
#define IMC_IDN_H

#include <stddef.h>

/*
 * Set *ascii to host's ASCII form (a new string the caller frees): a copy
 * of host when it is pure ASCII, else its A-label form (IDNA2008 with
 * UTS #46 non-transitional mapping).  Returns 0, or -1 with the reason in
 * err when the name has no such form or that form is not a host name.
 */
int imc_idn_ascii(const char *host, char **ascii, char *err, size_t errlen);

#endif
