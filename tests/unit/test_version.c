/* The version the header announces is the project's (CMake passes it to
 * this test), and the library reports the same. */
#include "check.h"
#include "cyrus/imclient.h"

static void header_matches_project(void)
{
    CHECK_STR(IMCLIENT_VERSION_STRING, IMC_PROJECT_VERSION);
    char built[32];
    snprintf(built, sizeof built, "%d.%d.%d", IMCLIENT_VERSION_MAJOR, IMCLIENT_VERSION_MINOR,
             IMCLIENT_VERSION_PATCH);
    CHECK_STR(built, IMC_PROJECT_VERSION);
    CHECK_INT(IMCLIENT_VERSION_NUM, (IMCLIENT_VERSION_MAJOR << 16) |
                                        (IMCLIENT_VERSION_MINOR << 8) | IMCLIENT_VERSION_PATCH);
}

static void library_matches_header(void)
{
    CHECK_STR(imclient_version(), IMCLIENT_VERSION_STRING);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(header_matches_project),
        TEST(library_matches_header),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
