#include "realenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *realenv_var(const char *prefix, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "IMC_%s_%s", prefix, what);
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int realenv_none(const char *prog)
{
    const char *require = getenv("IMC_REQUIRE_SERVERS");
    if (require && strcmp(require, "1") == 0) {
        fprintf(stderr, "%s: IMC_REQUIRE_SERVERS=1 but no server variables "
                        "(load DIR/env of tests/servers/all.sh)\n", prog);
        return 1;
    }
    printf("skipped: no servers\n");
    return 0;
}

static char ccache[128]; /* FILE:... with the test user's ticket, or "" */

void realenv_kinit(void)
{
    const char *principal = getenv("IMC_KRB5_PRINCIPAL");
    const char *pass = getenv("IMC_KRB5_PASS");
    if (!principal || !pass || !getenv("KRB5_CONFIG"))
        return;
    char path[96];
    snprintf(path, sizeof path, "/tmp/imc-test-cc-%ld", (long)getpid());
    snprintf(ccache, sizeof ccache, "FILE:%s", path);
    setenv("KRB5CCNAME", ccache, 1);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "kinit '%s' >/dev/null 2>&1", principal);
    FILE *p = popen(cmd, "w");
    int ok = p && fprintf(p, "%s\n", pass) > 0;
    if (p && pclose(p) != 0)
        ok = 0;
    if (!ok || access(path, R_OK) != 0) {
        fprintf(stderr, "kinit %s failed: GSSAPI tests will fail\n", principal);
        ccache[0] = '\0';
    }
}

int realenv_has_ticket(void)
{
    return ccache[0] != '\0';
}

void realenv_kdestroy(void)
{
    if (strncmp(ccache, "FILE:", 5) == 0)
        unlink(ccache + 5);
}
