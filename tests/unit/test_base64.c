/*
 * The bounded base64 decoder of AUTHENTICATE's challenges (auth/base64.c),
 * alone.  fake/test_authenticate.c sends the same hostile challenges
 * through a server; here the bound is checked at its edge.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "check.h"

/* The decoder refuses by size before it allocates anything. */
static void decode_bound_checked_first(void)
{
    size_t n = 1u << 20;
    char *big = malloc(n);
    memset(big, 'A', n);
    char *out = (char *)1;
    unsigned outlen = 7;
    CHECK_INT(imc_b64_decode(big, n, IMC_AUTH_MAX_CHALLENGE, &out, &outlen),
              IMC_B64_TOO_LARGE);
    CHECK(out == NULL);
    CHECK_INT(outlen, 0);
    /* Exactly at the bound is fine, one quantum more is not. */
    size_t at = (IMC_AUTH_MAX_CHALLENGE + 2) / 3 * 4;
    CHECK_INT(imc_b64_decode(big, at - 4, IMC_AUTH_MAX_CHALLENGE, &out, &outlen), IMC_B64_OK);
    CHECK_INT(outlen, (at - 4) / 4 * 3);
    free(out);
    CHECK_INT(imc_b64_decode(big, at + 4, IMC_AUTH_MAX_CHALLENGE, &out, &outlen),
              IMC_B64_TOO_LARGE);
    CHECK_INT(imc_b64_decode("", 0, 10, &out, &outlen), IMC_B64_OK);
    CHECK_INT(outlen, 0);
    free(out);
    CHECK_INT(imc_b64_decode("YWJjZA==", 8, 10, &out, &outlen), IMC_B64_OK);
    CHECK_MEM(out, outlen, "abcd", 4);
    free(out);
    free(big);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(decode_bound_checked_first),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
