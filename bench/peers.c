/*
 * peers: this library against its peers on the same workloads, in one run.
 *
 *     peers [-r RUNS] [-m MIB] [-k LITERAL_KIB] [-n LINES] [-p NOOPS,...]
 *           [-a APPEND_MIB] [-t SECONDS] [-s] [-P PEERS] [W1,W2,W3,W4,W5]
 *
 * It starts peer_server (the replay server) once, then runs every peer
 * client on every workload RUNS times.  Within a round each workload runs
 * on every peer in turn, the first peer changing from round to round, so
 * the machine's slow moments fall on all of them.  Each run is a fresh
 * process; the driver takes its peak RSS from wait4() and the workload's
 * wall and CPU time from the client, which measures only the exchange.
 * The table gives medians and the ratios of the medians to the raw reader.
 *
 * The exit status is 1 when a peer gave a wrong result or could not run.
 * A run killed by -t is reported and that peer is not run again on that
 * workload; with -s (the smoke test) it counts as a failure too.  No time
 * is judged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer_workload.h"
#include "stats.h"

#define MAX_RUNS 51
#define MAX_ROWS 16
#define MAX_PEERS 5

struct peer {
    const char *name; /* on the command line and in the table */
    const char *program;
    const char *what;
    unsigned only;    /* the workloads it runs (1 << PEER_Wn), or 0 for all */
};

static const struct peer all_peers[MAX_PEERS] = {
    { "raw", "peer_raw", "recv() into 64 KiB, looks for the tagged reply only", 0 },
    { "libcyrus", "peer_libcyrus", "this library (HEAD)", 0 },
    { "libcyrus-ext", "peer_libcyrus_ext",
      "this library's opt-ins: W3 with IMCLIENT_CONN_BATCH, W5 through %L",
      1u << PEER_W3 | 1u << PEER_W5 },
    { "cyrus36", "peer_cyrus36", "Cyrus IMAP 3.6 imclient, Debian's libcyrus.so.0", 0 },
    { "etpan", "peer_etpan", "libetpan 1.9 mailimap, Debian's libetpan-dev", 0 },
};


/* One line of the table: a workload at one size. */
struct row {
    enum peer_workload w;
    uint64_t count;
    char label[48];
};

static int runs_on(const struct peer *p, const struct row *r)
{
    return p->only == 0 || (p->only & 1u << r->w) != 0;
}

struct samples {
    int n;
    double wall[MAX_RUNS], cpu[MAX_RUNS], rss_mib[MAX_RUNS], grew_mib[MAX_RUNS];
    int timed_out, failed;
};

struct options {
    int runs;
    uint64_t w1_mib, literal, lines, append_mib;
    uint64_t noops[8];
    int nnoops;
    int timeout_s;
    int strict; /* -s: a run killed by -t is a failure */
    const struct peer *peers[MAX_PEERS];
    int npeers;
    int workloads[PEER_NWORKLOADS];
};

static char bindir[PATH_MAX];

static void usage(void)
{
    fprintf(stderr, "usage: peers [-r RUNS] [-m MIB] [-k LITERAL_KIB] [-n LINES] [-p NOOPS,...]\n"
                    "             [-a APPEND_MIB] [-t SECONDS] [-s]\n"
                    "             [-P raw,libcyrus,libcyrus-ext,cyrus36,etpan]\n"
                    "             [W1,W2,W3,W4,W5]\n");
    exit(2);
}

static uint64_t number(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v == 0)
        usage();
    return v;
}

static void parse_peers(struct options *o, char *list)
{
    o->npeers = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int found = 0;
        for (int i = 0; i < MAX_PEERS; i++)
            if (strcmp(tok, all_peers[i].name) == 0 && o->npeers < MAX_PEERS) {
                o->peers[o->npeers++] = &all_peers[i];
                found = 1;
            }
        if (!found)
            usage();
    }
}

static void parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){ .runs = 5, .w1_mib = 1024, .literal = 1024 * 1024,
                           .lines = 1000000, .append_mib = 64, .noops = { 10000, 100000, 400000 },
                           .nnoops = 3, .timeout_s = 300 };
    int opt;
    while ((opt = getopt(argc, argv, "r:m:k:n:p:a:t:sP:")) != -1) {
        switch (opt) {
        case 'r':
            o->runs = (int)number(optarg);
            if (o->runs > MAX_RUNS)
                usage();
            break;
        case 'm': o->w1_mib = number(optarg); break;
        case 'k': o->literal = number(optarg) * 1024; break;
        case 'n': o->lines = number(optarg); break;
        case 'a': o->append_mib = number(optarg); break;
        case 't': o->timeout_s = (int)number(optarg); break;
        case 's': o->strict = 1; break;
        case 'p':
            o->nnoops = 0;
            for (char *tok = strtok(optarg, ","); tok; tok = strtok(NULL, ","))
                if (o->nnoops < 8)
                    o->noops[o->nnoops++] = number(tok);
            break;
        case 'P': parse_peers(o, optarg); break;
        default: usage();
        }
    }
    if (optind < argc - 1)
        usage();
    if (optind == argc - 1) {
        for (char *tok = strtok(argv[optind], ","); tok; tok = strtok(NULL, ",")) {
            int w = peer_workload_parse(tok);
            if (w < 0)
                usage();
            o->workloads[w] = 1;
        }
    } else {
        for (int w = 0; w < PEER_NWORKLOADS; w++)
            o->workloads[w] = 1;
    }
    if (o->npeers == 0) /* every peer that was built */
        for (int i = 0; i < MAX_PEERS; i++) {
            char path[PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/%s", bindir, all_peers[i].program);
            if (access(path, X_OK) == 0)
                o->peers[o->npeers++] = &all_peers[i];
        }
}

static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
    else
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    return buf;
}

static int make_rows(const struct options *o, struct row *rows)
{
    int n = 0;
    char a[32], b[32];
    uint64_t literals = o->w1_mib * 1024 * 1024 / o->literal;
    for (int w = 0; w < PEER_NWORKLOADS; w++) {
        if (!o->workloads[w])
            continue;
        if (w == PEER_W3) {
            for (int i = 0; i < o->nnoops && n < MAX_ROWS; i++) {
                rows[n] = (struct row){ .w = PEER_W3, .count = o->noops[i] };
                snprintf(rows[n].label, sizeof rows[n].label, "W3 %llu NOOPs",
                         (unsigned long long)o->noops[i]);
                n++;
            }
            continue;
        }
        struct row *r = &rows[n++];
        r->w = (enum peer_workload)w;
        switch (w) {
        case PEER_W1:
        case PEER_W4:
            r->count = literals ? literals : 1;
            snprintf(r->label, sizeof r->label, "%s %llu x %s", peer_workload_name(r->w),
                     (unsigned long long)r->count, size_text(o->literal, a, sizeof a));
            break;
        case PEER_W2:
            r->count = o->lines;
            snprintf(r->label, sizeof r->label, "W2 %llu lines", (unsigned long long)o->lines);
            break;
        case PEER_W5:
            r->count = o->append_mib * 1024 * 1024;
            snprintf(r->label, sizeof r->label, "W5 APPEND %s", size_text(r->count, b, sizeof b));
            break;
        }
    }
    return n;
}

/* peer_server, with its standard input held by us: it exits when we do. */
static int start_server(const struct options *o, char port[16])
{
    int in[2], out[2];
    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        char path[PATH_MAX + 32], lit[32];
        snprintf(path, sizeof path, "%s/peer_server", bindir);
        snprintf(lit, sizeof lit, "%llu", (unsigned long long)o->literal);
        execl(path, path, "-l", lit, (char *)NULL);
        fprintf(stderr, "peers: %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[64];
    if (!f || !fgets(line, sizeof line, f) || sscanf(line, "PORT %15s", port) != 1) {
        fprintf(stderr, "peers: peer_server did not start\n");
        return -1;
    }
    fclose(f);
    return in[1]; /* never written; closing it stops the server */
}

enum outcome { RUN_OK, RUN_TIMEOUT, RUN_WRONG };

static enum outcome run_once(const struct options *o, const struct peer *p, const struct row *r,
                             const char *port, struct samples *s)
{
    int out[2];
    if (pipe(out) < 0)
        return RUN_WRONG;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return RUN_WRONG;
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        char path[PATH_MAX + 32], count[32], lit[32];
        snprintf(path, sizeof path, "%s/%s", bindir, p->program);
        snprintf(count, sizeof count, "%llu", (unsigned long long)r->count);
        snprintf(lit, sizeof lit, "%llu", (unsigned long long)o->literal);
        alarm((unsigned)o->timeout_s); /* kept across exec: the run's bound */
        execl(path, path, port, peer_workload_name(r->w), count, lit, (char *)NULL);
        fprintf(stderr, "peers: %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    char text[256] = "";
    size_t len = 0;
    ssize_t k;
    while (len < sizeof text - 1 && (k = read(out[0], text + len, sizeof text - 1 - len)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            break;
        len += (size_t)k;
    }
    text[len] = '\0';
    close(out[0]);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        return RUN_TIMEOUT;
    unsigned long long items, bytes;
    double wall, cpu;
    long rss0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(text, "result %llu %llu %lf %lf %ld", &items, &bytes, &wall, &cpu, &rss0) != 5)
        return RUN_WRONG;
    uint64_t want = r->w == PEER_W5 ? 1 : r->count;
    if (items != want) {
        fprintf(stderr, "peers: %s on %s: %llu items, expected %llu\n", p->name, r->label, items,
                (unsigned long long)want);
        return RUN_WRONG;
    }
    s->wall[s->n] = wall;
    s->cpu[s->n] = cpu;
    s->rss_mib[s->n] = (double)ru.ru_maxrss / 1024.0;
    s->grew_mib[s->n] = (double)(ru.ru_maxrss - rss0) / 1024.0;
    s->n++;
    return RUN_OK;
}

static double median_of(const double *v, int n)
{
    double copy[MAX_RUNS];
    memcpy(copy, v, sizeof *v * (size_t)n);
    return bench_summarize(copy, (size_t)n).median;
}

static void print_rate(const struct row *r, double wall, const struct options *o)
{
    switch (r->w) {
    case PEER_W1:
    case PEER_W4:
        printf("%.0f MB/s", (double)r->count * (double)o->literal / wall / 1e6);
        break;
    case PEER_W5:
        printf("%.0f MB/s", (double)r->count / wall / 1e6);
        break;
    default:
        printf("%.2f M/s", (double)r->count / wall / 1e6);
        break;
    }
}

static void print_table(const struct options *o, const struct row *rows, int nrows,
                        struct samples (*s)[MAX_PEERS])
{
    printf("\n| workload | peer | wall s (min-max) | wall / raw | CPU s | CPU / raw | rate "
           "| peak RSS MiB | RSS growth MiB |\n");
    printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < nrows; i++) {
        double raw_wall = 0, raw_cpu = 0;
        for (int p = 0; p < o->npeers; p++)
            if (strcmp(o->peers[p]->name, "raw") == 0 && s[i][p].n) {
                raw_wall = median_of(s[i][p].wall, s[i][p].n);
                raw_cpu = median_of(s[i][p].cpu, s[i][p].n);
            }
        for (int p = 0; p < o->npeers; p++) {
            struct samples *x = &s[i][p];
            if (!runs_on(o->peers[p], &rows[i]))
                continue;
            printf("| %s | %s | ", rows[i].label, o->peers[p]->name);
            if (x->n == 0) {
                printf("%s | | | | | | |\n",
                       x->timed_out ? "killed after -t" : x->failed ? "wrong result" : "-");
                continue;
            }
            double w[MAX_RUNS];
            memcpy(w, x->wall, sizeof w);
            struct bench_summary ws = bench_summarize(w, (size_t)x->n);
            double cpu = median_of(x->cpu, x->n);
            printf("%.3f (%.3f-%.3f)%s | ", ws.median, ws.min, ws.max,
                   x->timed_out ? ", then killed" : "");
            if (raw_wall > 0)
                printf("%.2f | ", ws.median / raw_wall);
            else
                printf("- | ");
            printf("%.3f | ", cpu);
            if (raw_cpu > 0)
                printf("%.2f | ", cpu / raw_cpu);
            else
                printf("- | ");
            print_rate(&rows[i], ws.median, o);
            printf(" | %.1f | %.1f |\n", median_of(x->rss_mib, x->n),
                   median_of(x->grew_mib, x->n));
        }
    }
}

static void find_bindir(const char *argv0)
{
    ssize_t n = readlink("/proc/self/exe", bindir, sizeof bindir - 1);
    if (n <= 0)
        n = (ssize_t)snprintf(bindir, sizeof bindir, "%s", argv0);
    bindir[n] = '\0';
    char *slash = strrchr(bindir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(bindir, ".");
}

static void print_load(const char *when)
{
    double l1, l5, l15;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
        printf("load average %s: %.2f %.2f %.2f\n", when, l1, l5, l15);
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    find_bindir(argv[0]);
    struct options o;
    parse_options(argc, argv, &o);
    struct row rows[MAX_ROWS];
    int nrows = make_rows(&o, rows);
    static struct samples s[MAX_ROWS][MAX_PEERS];
    char port[16];
    int server = start_server(&o, port);
    if (server < 0)
        return 1;
    time_t now = time(NULL);
    printf("peers: %d runs, -t %d s, %s", o.runs, o.timeout_s, ctime(&now));
    for (int p = 0; p < o.npeers; p++)
        printf("  %-15s %s\n", o.peers[p]->name, o.peers[p]->what);
    print_load("at start");
    int wrong = 0;
    for (int round = 0; round < o.runs; round++) {
        for (int i = 0; i < nrows; i++) {
            for (int k = 0; k < o.npeers; k++) {
                int p = (k + round) % o.npeers;
                struct samples *x = &s[i][p];
                if (x->timed_out || x->failed || !runs_on(o.peers[p], &rows[i]))
                    continue;
                enum outcome r = run_once(&o, o.peers[p], &rows[i], port, x);
                if (r == RUN_TIMEOUT) {
                    x->timed_out = 1;
                    wrong |= o.strict;
                    fprintf(stderr, "peers: %s on %s: killed after %d s; not run again\n",
                            o.peers[p]->name, rows[i].label, o.timeout_s);
                } else if (r == RUN_WRONG) {
                    x->failed = 1;
                    wrong = 1;
                    fprintf(stderr, "peers: %s on %s: wrong result or no result\n",
                            o.peers[p]->name, rows[i].label);
                }
            }
        }
        fprintf(stderr, "peers: round %d of %d done\n", round + 1, o.runs);
    }
    print_load("at end");
    print_table(&o, rows, nrows, s);
    close(server);
    return wrong;
}
