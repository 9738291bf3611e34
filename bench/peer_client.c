#include "peer_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "stats.h"

int peer_tally_complete(const struct peer_job *job, const struct peer_tally *tally)
{
    if (job->workload == PEER_W5)
        return tally->items == 1;
    if (tally->items != job->count)
        return 0;
    if (job->workload == PEER_W1 || job->workload == PEER_W4)
        return tally->bytes == job->count * job->literal;
    return 1;
}

static double rusage_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int parse_job(int argc, char **argv, struct peer_job *job)
{
    if (argc != 5)
        return -1;
    int w = peer_workload_parse(argv[2]);
    char *end1, *end2;
    job->port = argv[1];
    job->count = strtoull(argv[3], &end1, 10);
    job->literal = strtoull(argv[4], &end2, 10);
    if (w < 0 || *end1 || *end2 || job->count == 0 || job->literal == 0)
        return -1;
    job->workload = (enum peer_workload)w;
    if (w != PEER_W3 && w != PEER_W5)
        job->stream_bytes = peer_stream_bytes(job->workload, job->count, job->literal);
    if (job->workload == PEER_W5) {
        job->payload = malloc(job->count + 1);
        if (!job->payload)
            return -1;
        for (uint64_t i = 0; i < job->count; i++)
            job->payload[i] = peer_byte_at(i);
        job->payload[job->count] = '\0';
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct peer_job job;
    memset(&job, 0, sizeof job);
    if (parse_job(argc, argv, &job) < 0) {
        fprintf(stderr, "usage: %s PORT W1..W5 COUNT LITERAL_BYTES\n", argv[0]);
        return 2;
    }
    char why[300] = "";
    if (peer_connect(&job, why, sizeof why) < 0) {
        fprintf(stderr, "%s: connect: %s\n", argv[0], why);
        return 1;
    }
    struct peer_tally tally = { 0, 0 };
    long rss_before = bench_peak_rss_kib();
    double c0 = rusage_cpu(), t0 = bench_now();
    int r = peer_work(&job, &tally, why, sizeof why);
    double wall = bench_now() - t0, cpu = rusage_cpu() - c0;
    peer_close();
    free(job.payload);
    if (r < 0) {
        fprintf(stderr, "%s: %s %llu: %s\n", argv[0], argv[2], (unsigned long long)job.count,
                why);
        return 1;
    }
    printf("result %llu %llu %.6f %.6f %ld\n", (unsigned long long)tally.items,
           (unsigned long long)tally.bytes, wall, cpu, rss_before);
    return 0;
}
