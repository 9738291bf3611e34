/*
 * Host names given in Unicode (src/transport/idn.c): their A-label form,
 * the names refused, and resolution by that form in imc_socket_connect().
 * Nothing here asks DNS: the names that resolve map to "localhost".
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "listener.h"
#include "transport/idn.h"
#include "transport/socket.h"

static const struct {
    const char *in, *out;
} converted[] = {
    /* pure ASCII: as given, whatever it looks like */
    { "imap.example.org", "imap.example.org" },
    { "IMAP.Example.ORG.", "IMAP.Example.ORG." },
    { "127.0.0.1", "127.0.0.1" },
    { "::1", "::1" },
    { "under_score.example", "under_score.example" },
    { "", "" },
    /* Unicode: A-labels, case and width mapped, NFC applied */
    { "bücher.example", "xn--bcher-kva.example" },
    { "BÜCHER.example.", "xn--bcher-kva.example." },
    { "bu\xcc\x88" "cher.example", "xn--bcher-kva.example" }, /* u + combining diaeresis */
    { "ｌｏｃａｌｈｏｓｔ", "localhost" },
    /* non-transitional: ß stays itself */
    { "faß.example", "xn--fa-hia.example" },
};

static void alabels(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof converted / sizeof converted[0]; i++) {
        char *out = NULL, err[200] = "";
        int r = imc_idn_ascii(converted[i].in, &out, err, sizeof err);
        if (r != 0 || strcmp(out, converted[i].out) != 0) {
            fprintf(stderr, "  \"%s\": got %d \"%s\" %s\n", converted[i].in, r,
                    out ? out : "(null)", err);
            bad++;
        }
        free(out);
    }
    CHECK_INT(bad, 0);
}

static const struct {
    const char *in, *error;
} refused[] = {
    { "\xc3.example", "\"\xc3.example\" has no A-label form (IDNA2008): string encoding "
                      "error" },
    { "☃.example", "has no A-label form (IDNA2008): string contains a disallowed character" },
    { "bücher.-x.example", "has no A-label form (IDNA2008): " },
    { "١٢٣.example", "has no A-label form (IDNA2008): " },
    { "bücher.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "has no A-label form (IDNA2008): " },
    { "bücher..example", "\"bücher..example\" is not a host name (its A-label form is "
                         "\"xn--bcher-kva..example\")" },
    { "a b.bücher.example", "is not a host name (its A-label form is \"a "
                            "b.xn--bcher-kva.example\")" },
    { "bücher.example:143", "is not a host name" },
    { "bücher_x.example", "is not a host name" },
};

static void refusals(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char *out = (char *)"untouched", err[200] = "";
        int r = imc_idn_ascii(refused[i].in, &out, err, sizeof err);
        if (r != -1 || out != NULL || !strstr(err, refused[i].error)) {
            fprintf(stderr, "  \"%s\": got %d \"%s\", want \"%s\"\n", refused[i].in, r,
                    err, refused[i].error);
            bad++;
        }
        if (r == 0)
            free(out);
    }
    CHECK_INT(bad, 0);
}

/* A name with no A-label form is an unknown host (-1), decided before any
 * lookup. */
static void connect_refuses_name(void)
{
    int fd = 123;
    char err[300] = "";
    CHECK_INT(imc_socket_connect("☃.example", "143", 1000, &fd, err, sizeof err), -1);
    CHECK_INT(fd, -1);
    CHECK_STR(err, "unknown host: \"☃.example\" has no A-label form (IDNA2008): string "
                   "contains a disallowed character");
}

/* Resolution uses the A-label: "ｌｏｃａｌｈｏｓｔ" as UTF-8 bytes is no
 * name /etc/hosts or DNS knows, its A-label form is. */
static void connect_resolves_alabel(void)
{
    char port[16];
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    int fd = -1;
    char err[300] = "";
    int r = imc_socket_connect("ｌｏｃａｌｈｏｓｔ", port, 5000, &fd, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_INT(r, 0);
    int peer = accept_within(lfd, 5000);
    CHECK(peer >= 0);
    close(peer);
    close(fd);
    close(lfd);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(alabels),
        TEST(refusals),
        TEST(connect_refuses_name),
        TEST(connect_resolves_alabel),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
