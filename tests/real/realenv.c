#include "realenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
