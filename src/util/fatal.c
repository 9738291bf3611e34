/*
 * The default fatal(), used only when the program defines none.
 *
 * It is weak and alone in its object file: a static link pulls this file from
 * libcyrus.a only when fatal is still undefined, and with the shared library
 * the program's own definition takes precedence at run time because the
 * library calls fatal through its exported, interposable symbol.
 */
#include <stdio.h>
#include <stdlib.h>

#include "util/fatal.h"

__attribute__((weak)) void fatal(const char *msg, int code)
{
    fprintf(stderr, "fatal error: %s\n", msg);
    exit(code);
}
