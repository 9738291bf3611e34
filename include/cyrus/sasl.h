/*
 * cyrus/sasl.h - authentication mechanism descriptors for imclient_authenticate().
 *
 * An application passes imclient_authenticate() a NULL-terminated array of
 * pointers to these descriptors, in order of preference.  The descriptors
 * themselves are defined by the library; applications only take their
 * addresses.  The mechanisms run through Cyrus SASL (libsasl2).
 */
#ifndef CYRUS_SASL_H
#define CYRUS_SASL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Security layers an application accepts after authentication (bitmask). */
#define SASL_PROT_NONE      0x01 /* no layer: authentication only */
#define SASL_PROT_INTEGRITY 0x02 /* integrity protection */
#define SASL_PROT_PRIVACY   0x04 /* integrity and confidentiality */
#define SASL_PROT_ANY       (SASL_PROT_NONE | SASL_PROT_INTEGRITY | SASL_PROT_PRIVACY)

/* One SASL mechanism as the library offers it. */
struct sasl_client {
    const char *name;  /* IANA mechanism name, e.g. "GSSAPI" */
    int maxssf;        /* strongest security layer it can negotiate (0: none) */
};

/*
 * The mechanisms the library offers.  krb_sasl_client is Kerberos V5 through
 * GSSAPI, the name the imclient(3) example uses.
 */
extern struct sasl_client krb_sasl_client;
extern struct sasl_client imclient_sasl_scram_sha256;
extern struct sasl_client imclient_sasl_scram_sha1;
extern struct sasl_client imclient_sasl_plain;
extern struct sasl_client imclient_sasl_login;
extern struct sasl_client imclient_sasl_cram_md5;
extern struct sasl_client imclient_sasl_external;

#ifdef __cplusplus
}
#endif

#endif /* CYRUS_SASL_H */
