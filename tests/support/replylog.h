/*
 * What the application saw: callbacks write one line each into a log,
 * "rock|KEYWORD|msgno|text\n", so a test can compare the whole sequence of
 * deliveries with one string.  The log is one per test program because
 * callbacks only get their rock, which the tests spend on the label.
 */
#ifndef IMC_REPLYLOG_H
#define IMC_REPLYLOG_H

#include <stddef.h>

struct imclient;
struct imclient_reply;

/* A callback: log the reply under the label in rock. */
void record(struct imclient *c, void *rock, struct imclient_reply *r);
/* A completion callback: log it and count one finished command. */
void finished(struct imclient *c, void *rock, struct imclient_reply *r);
/* A line of the test's own, to place events among the replies. */
void mark(const char *what);

/* Write control bytes and bytes above 0x7e in reply texts as \r, \n, \0,
 * \xHH; for servers that send bytes a string literal would hide. */
void log_escape_text(int on);

const char *log_text(void);
const char *log_bytes(size_t *len);
int log_ends_with(const char *tail);
int finished_count(void);
/* Empty the log and the count (the escaping choice stays). */
void reset(void);

/* Run events until finished_count() reaches n, an event fails, or
 * 10 000 events have passed, none waiting more than 5 s. */
void run_until(struct imclient *c, int n);
/* Connect and log every untagged reply under "u"; NULL if it fails. */
struct imclient *open_logged(const char *host, const char *port);

/* A scripted server's verdict from wait(fs, err, size): 0, or the reason
 * is reported and the test ends. */
#define CHECK_SERVER(wait, fs)                                   \
    do {                                                         \
        char err_[600];                                          \
        int r_ = wait(fs, err_, sizeof err_);                    \
        if (r_ != 0)                                             \
            check_fail(__FILE__, __LINE__, "server: %s", err_);  \
        CHECK(r_ == 0);                                          \
    } while (0)

/* The script of a fake server (fakeserver.h) ended well, and the client
 * sent exactly the string want. */
#define CHECK_WIRE(fs, want)                          \
    do {                                              \
        CHECK_SERVER(fake_wait, fs);                  \
        size_t len_;                                  \
        const char *got_ = fake_received(fs, &len_);  \
        CHECK_BYTES(got_, len_, want);                \
    } while (0)

#endif
