/*
 * Base64 for AUTHENTICATE, through libsasl2's codec.  sasl_decode64() is
 * lenient: it reports "need more" for "!!!" or a truncated quantum instead
 * of an error, so a challenge is checked against RFC 4648's alphabet and
 * padding first, and its size is bounded before anything is allocated: a
 * server that sends a megabyte of challenge gets "*", not our memory.
 */
#include "auth/auth_internal.h"

#include <sasl/saslutil.h>
#include <string.h>

#include "cyrus/xmalloc.h"

static int is_b64_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

/* Whole quanta of the alphabet, '=' only as one or two final pads. */
static int well_formed(const char *text, size_t len)
{
    if (len % 4 != 0)
        return 0;
    size_t pad = 0;
    if (len >= 1 && text[len - 1] == '=')
        pad++;
    if (len >= 2 && text[len - 2] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++)
        if (!is_b64_char((unsigned char)text[i]))
            return 0;
    return 1;
}

enum imc_b64_result imc_b64_decode(const char *text, size_t len, size_t max, char **out,
                                   unsigned *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (len / 4 * 3 > max + 2)
        return IMC_B64_TOO_LARGE;
    if (!well_formed(text, len))
        return IMC_B64_MALFORMED;
    unsigned room = (unsigned)(len / 4 * 3 + 1);
    char *buf = xmalloc(room);
    unsigned n = 0;
    if (sasl_decode64(text, (unsigned)len, buf, room, &n) != SASL_OK) {
        free(buf);
        return IMC_B64_MALFORMED;
    }
    if (n > max) {
        free(buf);
        return IMC_B64_TOO_LARGE;
    }
    *out = buf;
    *outlen = n;
    return IMC_B64_OK;
}

char *imc_b64_encode(const char *data, unsigned len, size_t *outlen)
{
    unsigned room = (len + 2) / 3 * 4 + 1;
    char *buf = xmalloc(room);
    unsigned n = 0;
    if (sasl_encode64(data, len, buf, room, &n) != SASL_OK)
        n = 0; /* room is always enough; keep the result well defined */
    buf[n] = '\0';
    *outlen = n;
    return buf;
}
