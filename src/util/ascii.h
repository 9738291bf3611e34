/* Case rules of the IMAP protocol: ASCII only.  The C library's tolower()
 * and strcasecmp() follow the locale (in Turkish, 'i' and 'I' are not a
 * pair), which would make keyword matching and the NIL check depend on
 * the application's setlocale(). */
#ifndef IMC_ASCII_H
#define IMC_ASCII_H

#include <stddef.h>
#include <stdint.h>

static inline char imc_ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Nonzero if a[0..n) and b[0..n) are equal ignoring ASCII case. */
static inline int imc_ascii_eq(const char *a, const char *b, size_t n)
{
    /* Servers send keywords in upper case and applications register them
     * so: equal bytes are settled before any folding. */
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i] && imc_ascii_upper(a[i]) != imc_ascii_upper(b[i]))
            return 0;
    return 1;
}

/* The first 8 bytes of s[0..n), upper-cased and packed first byte lowest:
 * two words of up to 8 bytes are equal ignoring case exactly when their
 * lengths and keys are, which makes a keyword comparison one instruction. */
static inline uint64_t imc_ascii_key(const char *s, size_t n)
{
    uint64_t key = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        key |= (uint64_t)(unsigned char)imc_ascii_upper(s[i]) << (8 * i);
    return key;
}

/* Nonzero if s starts with word, ignoring ASCII case, followed by a space
 * or its end: "LOGIN" in "login %s %s", not in "LOGINX".  The comparison
 * stops at the first difference, so s may be shorter than word. */
static inline int imc_ascii_word(const char *s, const char *word)
{
    size_t n = 0;
    while (word[n] != '\0')
        n++;
    return imc_ascii_eq(s, word, n) && (s[n] == ' ' || s[n] == '\0');
}

#endif
