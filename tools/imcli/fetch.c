#include "fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyrus/imclient.h>

#include "exitcodes.h"
#include "options.h"
#include "session.h"

struct download {
    int fd;
    int matched;       /* the BODY[] literal has begun */
    int failed;        /* errno of a failed write, 0 if none */
    int progress;      /* stderr is a terminal */
    int shown_percent; /* the last percentage shown */
    unsigned long long size, written;
};

/* Is the literal that begins here the value of BODY[]?  A FETCH may carry
 * other literals (a header field, say) before or after it. */
static int is_body_literal(const struct imclient_literal *piece)
{
    static const char item[] = "BODY[] ";
    const char *head = piece->before + piece->beforelen;
    const char *start = piece->before;
    while (head > start && head[-1] != '{')
        head--;
    if (head == start)
        return 0;
    head--; /* at '{' */
    size_t n = sizeof item - 1;
    return (size_t)(head - start) >= n && memcmp(head - n, item, n) == 0;
}

static void show_progress(struct download *d, int final)
{
    int percent = d->size ? (int)(d->written * 100 / d->size) : 100;
    if (!d->progress || (!final && percent == d->shown_percent))
        return;
    d->shown_percent = percent;
    fprintf(stderr, "\rfetching: %llu of %llu bytes (%d%%)%s", d->written, d->size,
            percent, final ? "\n" : "");
}

static void write_all(struct download *d, const char *data, size_t len)
{
    while (len > 0 && !d->failed) {
        ssize_t n = write(d->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            d->failed = errno;
            return;
        }
        data += n;
        len -= (size_t)n;
        d->written += (unsigned long long)n;
    }
}

static void on_piece(struct imclient *c, void *rock, const struct imclient_literal *piece)
{
    (void)c;
    struct download *d = rock;
    if (piece->offset == 0) {
        if (d->matched || !is_body_literal(piece))
            return;
        d->matched = 1;
        d->size = piece->size;
    } else if (!d->matched || d->written != piece->offset) {
        return; /* a piece of a literal we do not keep */
    }
    write_all(d, piece->data, piece->len);
    show_progress(d, piece->offset + piece->len == piece->size);
}

/* Runs EXAMINE and UID FETCH; returns the exit code. */
static int download(struct imcli_session *s, struct download *d)
{
    const struct imcli_options *o = s->o;
    enum imcli_result r = imcli_session_run(s, "EXAMINE %s", o->fetch_mailbox);
    if (r == IMCLI_RESULT_REFUSED) {
        fprintf(stderr, "imcli: cannot open %s: %s\n", o->fetch_mailbox, s->status);
        return IMCLI_EXIT_COMMAND;
    }
    if (r == IMCLI_RESULT_OK) {
        unsigned uid = (unsigned)strtoul(o->fetch_uid, NULL, 10);
        imclient_addliteralcallback(s->c, "FETCH", CALLBACK_NUMBERED, on_piece, d);
        r = imcli_session_run(s, "UID FETCH %u BODY.PEEK[]", uid);
        imclient_addliteralcallback(s->c, "FETCH", CALLBACK_NUMBERED, NULL, NULL);
    }
    if (r == IMCLI_RESULT_EOF) {
        fprintf(stderr, "imcli: the connection ended: %s\n", imclient_error(s->c));
        return IMCLI_EXIT_LOST;
    }
    if (d->failed) {
        fprintf(stderr, "imcli: writing %s: %s\n", o->fetch_file, strerror(d->failed));
        return IMCLI_EXIT_LOCAL;
    }
    if (r == IMCLI_RESULT_REFUSED || !d->matched || d->written != d->size) {
        fprintf(stderr, "imcli: no message with UID %s in %s%s%s\n", o->fetch_uid,
                o->fetch_mailbox, r == IMCLI_RESULT_REFUSED ? ": " : "",
                r == IMCLI_RESULT_REFUSED ? s->status : "");
        return IMCLI_EXIT_COMMAND;
    }
    return IMCLI_EXIT_OK;
}

int imcli_fetch(struct imcli_session *s)
{
    const char *path = s->o->fetch_file;
    size_t n = strlen(path);
    char *tmp = malloc(n + 8);
    if (!tmp)
        return IMCLI_EXIT_LOCAL;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".XXXXXX", 8);
    struct download d = { .fd = mkstemp(tmp), .shown_percent = -1,
                          .progress = isatty(STDERR_FILENO) };
    if (d.fd < 0) {
        fprintf(stderr, "imcli: cannot create a file beside %s: %s\n", path, strerror(errno));
        free(tmp);
        return IMCLI_EXIT_LOCAL;
    }
    /* mkstemp makes it 0600; a saved message gets the usual mode. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(d.fd, 0666 & ~mask);
    int code = download(s, &d);
    if (close(d.fd) != 0 && code == IMCLI_EXIT_OK) {
        fprintf(stderr, "imcli: writing %s: %s\n", path, strerror(errno));
        code = IMCLI_EXIT_LOCAL;
    }
    if (code == IMCLI_EXIT_OK && rename(tmp, path) != 0) {
        fprintf(stderr, "imcli: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        code = IMCLI_EXIT_LOCAL;
    }
    if (code != IMCLI_EXIT_OK)
        unlink(tmp);
    free(tmp);
    if (code != IMCLI_EXIT_LOST && imclient_isopen(s->c))
        imcli_session_run(s, "LOGOUT");
    return code;
}
