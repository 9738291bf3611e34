#include "peer_workload.h"

#include <stdio.h>
#include <strings.h>

static const char *const names[PEER_NWORKLOADS] = { "W1", "W2", "W3", "W4", "W5" };

int peer_workload_parse(const char *name)
{
    for (int w = 0; w < PEER_NWORKLOADS; w++)
        if (strcasecmp(name, names[w]) == 0)
            return w;
    return -1;
}

const char *peer_workload_name(enum peer_workload w)
{
    return (unsigned)w < PEER_NWORKLOADS ? names[w] : "?";
}

uint64_t peer_stream_bytes(enum peer_workload w, uint64_t count, uint64_t literal)
{
    char line[128];
    uint64_t total = sizeof PEER_GREETING - 1 + snprintf(line, sizeof line, "1 " PEER_FETCH_DONE "\r\n");
    for (uint64_t i = 1; i <= count; i++) {
        if (w == PEER_W2)
            total += (uint64_t)snprintf(line, sizeof line, PEER_SMALL_LINE,
                                        (unsigned long long)i, (unsigned long long)i);
        else
            total += (uint64_t)snprintf(line, sizeof line, PEER_LITERAL_HEAD,
                                        (unsigned long long)i, (unsigned long long)literal) +
                     literal + sizeof PEER_LITERAL_TAIL - 1;
    }
    return total;
}
