/* The system's trusted CAs, shared by every TLS layer that uses them. */
#ifndef IMC_TRUST_STORE_H
#define IMC_TRUST_STORE_H

#include <openssl/x509_vfy.h>

/*
 * The store of the system's default CA locations (OpenSSL's default file,
 * directory and store URI), loaded on the first call in the process.
 * Borrowed: take a reference (SSL_CTX_set1_cert_store) and never modify
 * it.  NULL if it could not be made, with OpenSSL's reason queued.
 */
X509_STORE *imc_system_trust_store(void);

#endif
