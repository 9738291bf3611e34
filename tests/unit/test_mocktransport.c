/*
 * The mock lower layer the transport-layer tests stand on
 * (tests/support/mocktransport.c).  Those tests prove that a layer copes
 * with short writes, EAGAIN and split reads only if the mock really
 * produces them, so what each field of its script does is pinned here.
 */
#include <errno.h>

#include "check.h"
#include "mocktransport.h"

/* The result of one read as text: the bytes, "EAGAIN", "EOF" or "E<n>". */
static const char *read_once(struct mock_transport *m, size_t len)
{
    static char out[64];
    char buf[64];
    ssize_t n = imc_transport_read(&m->base, buf, len < sizeof buf ? len : sizeof buf);
    if (n > 0)
        snprintf(out, sizeof out, "%.*s", (int)n, buf);
    else if (n == 0)
        snprintf(out, sizeof out, "EOF");
    else if (errno == EAGAIN)
        snprintf(out, sizeof out, "EAGAIN");
    else
        snprintf(out, sizeof out, "E%d", errno);
    return out;
}

static void reads_in_pieces_with_pauses(void)
{
    struct mock_transport m;
    mock_transport_init(&m);
    CHECK_STR(read_once(&m, 10), "EAGAIN"); /* nothing scripted yet */
    mock_transport_input(&m, "abcdefgh", 8);
    m.read_piece = 3;
    m.read_pause = 1;
    CHECK_STR(read_once(&m, 10), "abc");
    CHECK_STR(read_once(&m, 10), "EAGAIN");
    CHECK_STR(read_once(&m, 2), "de"); /* never more than asked */
    CHECK_STR(read_once(&m, 10), "EAGAIN");
    CHECK_STR(read_once(&m, 10), "fgh");
    /* Used up: no pause owed, the end shows at once. */
    CHECK_STR(read_once(&m, 10), "EAGAIN");
    m.eof_at_end = 1;
    CHECK_STR(read_once(&m, 10), "EOF");
    CHECK_INT(m.reads, 8);
    CHECK_INT(m.inpos, 8);
    mock_transport_free(&m);
}

static void reads_without_pauses_and_later_input(void)
{
    struct mock_transport m;
    mock_transport_init(&m);
    mock_transport_input(&m, "hello world", 2);
    CHECK_STR(read_once(&m, 10), "he"); /* read_piece 0: all there is */
    CHECK_STR(read_once(&m, 10), "EAGAIN");
    m.inlen = 11; /* the rest arrives */
    m.read_piece = 4;
    CHECK_STR(read_once(&m, 10), "llo ");
    CHECK_STR(read_once(&m, 10), "worl");
    CHECK_STR(read_once(&m, 10), "d");
    mock_transport_free(&m);
}

static void writes_in_pieces_are_recorded(void)
{
    struct mock_transport m;
    mock_transport_init(&m);
    CHECK_INT(imc_transport_write(&m.base, "0123456789", 10), 10); /* whole by default */
    m.write_piece = 7;
    CHECK_INT(imc_transport_write(&m.base, "abcdefghijkl", 12), 7);
    CHECK_INT(imc_transport_write(&m.base, "hijkl", 5), 5);
    CHECK_BYTES(m.written.data, m.written.len, "0123456789abcdefghijkl");
    CHECK_INT(m.writes, 3);
    mock_transport_free(&m);
}

static void full_until_given_room(void)
{
    struct mock_transport m;
    mock_transport_init(&m);
    m.write_room = 10;
    CHECK_INT(imc_transport_write(&m.base, "abcdef", 6), 6);
    CHECK_INT(imc_transport_write(&m.base, "ghijkl", 6), 4);
    CHECK_INT(imc_transport_write(&m.base, "kl", 2), -1);
    CHECK_INT(errno, EAGAIN);
    m.write_room = 1;
    CHECK_INT(imc_transport_write(&m.base, "kl", 2), 1);
    CHECK_INT(imc_transport_write(&m.base, "l", 1), -1);
    CHECK_INT(errno, EAGAIN);
    CHECK_BYTES(m.written.data, m.written.len, "abcdefghijk");
    mock_transport_free(&m);
}

static void every_nth_write_refused(void)
{
    struct mock_transport m;
    mock_transport_init(&m);
    m.write_eagain_every = 3;
    m.writes = 2; /* the first call is the third */
    CHECK_INT(imc_transport_write(&m.base, "a", 1), -1);
    CHECK_INT(errno, EAGAIN);
    CHECK_INT(imc_transport_write(&m.base, "a", 1), 1);
    CHECK_INT(imc_transport_write(&m.base, "b", 1), 1);
    CHECK_INT(imc_transport_write(&m.base, "c", 1), -1);
    CHECK_INT(errno, EAGAIN);
    CHECK_INT(imc_transport_write(&m.base, "c", 1), 1);
    CHECK_BYTES(m.written.data, m.written.len, "abc");
    mock_transport_free(&m);
}

static void failures_with_chosen_errno(void)
{
    struct mock_transport m;
    mock_transport_init(&m);
    mock_transport_input(&m, "data", 4);
    m.read_errno = ECONNRESET;
    m.write_errno = EPIPE;
    errno = 0;
    CHECK_INT(imc_transport_read(&m.base, (char[8]){ 0 }, 8), -1);
    CHECK_INT(errno, ECONNRESET);
    errno = 0;
    CHECK_INT(imc_transport_write(&m.base, "x", 1), -1);
    CHECK_INT(errno, EPIPE);
    CHECK_INT(m.written.len, 0);
    CHECK_INT(m.inpos, 0);
    m.read_errno = m.write_errno = 0;
    CHECK_STR(read_once(&m, 10), "data");
    CHECK_INT(imc_transport_write(&m.base, "x", 1), 1);
    mock_transport_free(&m);
}

static void destroy_is_noted(void)
{
    struct mock_transport m;
    mock_transport_init(&m);
    CHECK_INT(m.base.fd, -1);
    CHECK(m.base.lower == NULL);
    CHECK_INT(imc_transport_buffered(&m.base), 0);
    CHECK_INT(imc_transport_wants(&m.base), 0);
    CHECK(!m.destroyed);
    imc_transport_destroy(&m.base);
    CHECK(m.destroyed);
    mock_transport_free(&m);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(reads_in_pieces_with_pauses),
        TEST(reads_without_pauses_and_later_input),
        TEST(writes_in_pieces_are_recorded),
        TEST(full_until_given_room),
        TEST(every_nth_write_refused),
        TEST(failures_with_chosen_errno),
        TEST(destroy_is_noted),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
