/* Milliseconds on the monotonic clock, for deadlines that must not jump
 * when the wall clock is set. */
#ifndef IMC_CLOCK_H
#define IMC_CLOCK_H

#include <time.h>

static inline long imc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#endif
