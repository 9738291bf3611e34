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

struct realenv_server *realenv_servers(void)
{
    static struct realenv_server servers[] = {
        { "dovecot", "DOVECOT", NULL, NULL, NULL, 0 },
        { "cyrus", "CYRUS", NULL, NULL, NULL, 0 },
    };
    static int loaded;
    for (size_t i = 0; !loaded && i < sizeof servers / sizeof servers[0]; i++) {
        struct realenv_server *s = &servers[i];
        s->port = realenv_var(s->prefix, "PORT");
        s->user = realenv_var(s->prefix, "USER");
        s->pass = realenv_var(s->prefix, "PASS");
        s->present = s->port && s->user && s->pass;
    }
    loaded = 1;
    return servers;
}

int realenv_main(int argc, char **argv, const struct check_test *all, size_t per)
{
    struct realenv_server *servers = realenv_servers();
    struct check_test *chosen = calloc(2 * per, sizeof *chosen);
    if (!chosen)
        abort();
    size_t n = 0;
    for (size_t k = 0; k < 2; k++)
        for (size_t j = 0; servers[k].present && j < per; j++)
            chosen[n++] = all[k * per + j];
    int r = n == 0 ? realenv_none(argv[0]) : check_main(argc, argv, chosen, n);
    free(chosen);
    return r;
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
