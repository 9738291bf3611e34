#include "password.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "options.h"

#define PASSWORD_MAX 1024

static char *from_env(const char *var)
{
    const char *v = getenv(var);
    if (!v) {
        fprintf(stderr, "imcli: --password-env: %s is not set\n", var);
        return NULL;
    }
    return strdup(v);
}

/* Reads one line from fd into a fresh buffer, without its line end. */
static char *read_line(int fd, const char *what)
{
    char *buf = calloc(1, PASSWORD_MAX + 1);
    size_t len = 0;
    if (!buf)
        return NULL;
    for (;;) {
        char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "imcli: reading %s: %s\n", what, strerror(errno));
            imcli_password_free(buf);
            return NULL;
        }
        if (n == 0 || ch == '\n')
            break;
        if (len == PASSWORD_MAX) {
            fprintf(stderr, "imcli: %s: password longer than %d bytes\n", what, PASSWORD_MAX);
            imcli_password_free(buf);
            return NULL;
        }
        buf[len++] = ch;
    }
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return buf;
}

static char *from_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "imcli: --password-file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *pw = read_line(fd, path);
    close(fd);
    return pw;
}

/* The terminal itself, not stdin: commands may come from a pipe while the
 * password is typed.  Echo stays off only while reading; an interrupt
 * restores it before the default action ends us. */
static struct termios saved_mode;
static int tty_fd = -1;

static void restore_echo(int sig)
{
    tcsetattr(tty_fd, TCSAFLUSH, &saved_mode);
    signal(sig, SIG_DFL);
    raise(sig);
}

static char *from_terminal(const struct imcli_options *o)
{
    tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty_fd < 0 || tcgetattr(tty_fd, &saved_mode) != 0) {
        fprintf(stderr, "imcli: no terminal to ask for the password on; "
                        "use --password-env or --password-file\n");
        if (tty_fd >= 0)
            close(tty_fd);
        return NULL;
    }
    struct termios quiet = saved_mode;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    void (*old_int)(int) = signal(SIGINT, restore_echo);
    void (*old_term)(int) = signal(SIGTERM, restore_echo);
    /* Echo goes off before the prompt shows: what is typed once it shows
     * must neither be echoed nor discarded with the typeahead. */
    tcsetattr(tty_fd, TCSAFLUSH, &quiet);
    dprintf(tty_fd, "Password for %s@%s: ", o->user ? o->user : "", o->host);
    char *pw = read_line(tty_fd, "the terminal");
    tcsetattr(tty_fd, TCSAFLUSH, &saved_mode);
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
    dprintf(tty_fd, "\n");
    close(tty_fd);
    tty_fd = -1;
    return pw;
}

char *imcli_password_get(const struct imcli_options *o)
{
    if (o->password_env)
        return from_env(o->password_env);
    if (o->password_file)
        return from_file(o->password_file);
    return from_terminal(o);
}

void imcli_password_free(char *password)
{
    if (!password)
        return;
    explicit_bzero(password, strlen(password));
    free(password);
}
