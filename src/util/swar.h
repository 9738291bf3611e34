/* Eight bytes at a time in a 64-bit word ("SIMD within a register"), for
 * the scans every reply line goes through.  The word holds its first byte
 * lowest whatever the machine's byte order, so a byte's index is the bit
 * index of its lowest flag divided by 8. */
#ifndef IMC_SWAR_H
#define IMC_SWAR_H

#include <stdint.h>
#include <string.h>

#define IMC_SWAR_ONES 0x0101010101010101ull
#define IMC_SWAR_HIGH 0x8080808080808080ull

/* p[0..8), which must all be readable. */
static inline uint64_t imc_swar_load(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* The index of the first byte of flags (nonzero) that is not zero. */
static inline unsigned imc_swar_first(uint64_t flags)
{
    return (unsigned)__builtin_ctzll(flags) / 8;
}

#endif
