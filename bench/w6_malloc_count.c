/*
 * See w6_malloc_count.h.  The blocks themselves come from glibc
 * (__libc_malloc and friends), so the heap behaves as in the plain build;
 * what is added is a side table, mmap'd, of every live block: its size
 * (malloc_usable_size) and its category.  Blocks made before the table
 * existed, or by posix_memalign and the like (not replaced), are simply
 * not counted; freeing them still works.
 */
#define _GNU_SOURCE
#include "w6_malloc_count.h"

#include <link.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

#define MAX_CATS 512
#define FIRST_FILE_CAT 16
#define TABLE_BITS 23 /* 8M blocks, 128 MiB of address space, touched as used */
#define TABLE_SIZE (1u << TABLE_BITS)

static const char *raw_files[MAX_CATS]; /* OpenSSL's __FILE__ pointers */
static const char *cat_names[MAX_CATS] = {
    "other", "libcyrus+bench (the program)", "libc (strdup, ...)", "libcrypto (direct)",
    "libssl (direct)", "libsasl2", "SASL plugins", "libevent", "libcares", "ld.so",
};
static int ncats = FIRST_FILE_CAT;

struct entry {
    uintptr_t key; /* 0: empty */
    uint32_t size;
    uint16_t cat;
};

static struct entry *table;
static int64_t live_bytes[MAX_CATS], live_blocks[MAX_CATS];
static int busy;               /* inside our own bookkeeping */

struct range {
    uintptr_t lo, hi;
    uint16_t cat;
};
static struct range ranges[256];
static int nranges, rescans;

static int cat_of_object(const char *name)
{
    if (!name || !name[0])
        return 1;
    if (strstr(name, "/sasl2/"))
        return 6;
    static const struct {
        const char *part;
        int cat;
    } m[] = { { "libc.so", 2 },     { "libcrypto", 3 }, { "libssl", 4 },
              { "libsasl2", 5 },    { "libevent", 7 },  { "libcares", 8 },
              { "ld-linux", 9 } };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strstr(name, m[i].part))
            return m[i].cat;
    return 0;
}

static int add_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    int cat = cat_of_object(info->dlpi_name);
    for (int i = 0; i < info->dlpi_phnum && nranges < 256; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
        ranges[nranges].hi = ranges[nranges].lo + ph->p_memsz;
        ranges[nranges].cat = (uint16_t)cat;
        nranges++;
    }
    return 0;
}

static uint16_t classify(uintptr_t addr)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nranges; i++)
            if (addr >= ranges[i].lo && addr < ranges[i].hi)
                return ranges[i].cat;
        if (rescans > 1000)
            break;
        /* A library loaded since (the SASL plugins are dlopen'ed). */
        rescans++;
        nranges = 0;
        dl_iterate_phdr(add_object, NULL);
    }
    return 0;
}

static size_t slot_of(uintptr_t p)
{
    return (size_t)(((uint64_t)p >> 4) * 0x9E3779B97F4A7C15ull >> (64 - TABLE_BITS));
}

static int ensure_table(void)
{
    if (table)
        return 1;
    void *m = mmap(NULL, (size_t)TABLE_SIZE * sizeof(struct entry), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    table = m;
    return 1;
}

static void track(void *p, uint16_t cat)
{
    if (!p || !ensure_table())
        return;
    uintptr_t key = (uintptr_t)p;
    size_t i = slot_of(key);
    for (size_t probes = 0; probes < TABLE_SIZE; probes++, i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].key == key) { /* freed behind our back, reused */
            live_bytes[table[i].cat] -= table[i].size;
            live_blocks[table[i].cat]--;
            break;
        }
        if (table[i].key == 0)
            break;
    }
    uint32_t size = (uint32_t)malloc_usable_size(p);
    table[i].key = key;
    table[i].size = size;
    table[i].cat = cat;
    live_bytes[cat] += size;
    live_blocks[cat]++;
}

/* Linear probing with backward-shift deletion: no tombstones. */
static void untrack(void *p)
{
    if (!p || !table)
        return;
    uintptr_t key = (uintptr_t)p;
    size_t i = slot_of(key);
    for (size_t probes = 0;; probes++, i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].key == 0 || probes >= TABLE_SIZE)
            return;
        if (table[i].key == key)
            break;
    }
    live_bytes[table[i].cat] -= table[i].size;
    live_blocks[table[i].cat]--;
    size_t hole = i;
    for (size_t j = (i + 1) & (TABLE_SIZE - 1); table[j].key != 0; j = (j + 1) & (TABLE_SIZE - 1)) {
        size_t home = slot_of(table[j].key);
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            table[hole] = table[j];
            hole = j;
        }
    }
    table[hole].key = 0;
}

static uint16_t caller_cat(void *ret)
{
    return classify((uintptr_t)ret);
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if (!busy) {
        busy = 1;
        track(p, caller_cat(__builtin_return_address(0)));
        busy = 0;
    }
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    if (!busy) {
        busy = 1;
        track(p, caller_cat(__builtin_return_address(0)));
        busy = 0;
    }
    return p;
}

void *realloc(void *old, size_t n)
{
    if (!busy && old) {
        busy = 1;
        untrack(old);
        busy = 0;
    }
    void *p = __libc_realloc(old, n);
    if (!busy) {
        busy = 1;
        if (p)
            track(p, caller_cat(__builtin_return_address(0)));
        busy = 0;
    }
    return p;
}

void free(void *p)
{
    if (!busy && p) {
        busy = 1;
        untrack(p);
        busy = 0;
    }
    __libc_free(p);
}

/* ---- OpenSSL, by source file ---- */

static uint16_t file_cat(const char *file)
{
    if (!file)
        return 3;
    while (file[0] == '.' && file[1] == '.' && file[2] == '/')
        file += 3;
    for (int i = FIRST_FILE_CAT; i < ncats; i++)
        if (raw_files[i] == file || strcmp(cat_names[i] + 8, file) == 0)
            return (uint16_t)i;
    if (ncats >= MAX_CATS)
        return 3;
    size_t len = strlen(file);
    char *name = __libc_malloc(len + 9);
    if (!name)
        return 3;
    memcpy(name, "OpenSSL ", 8);
    memcpy(name + 8, file, len + 1);
    cat_names[ncats] = name;
    raw_files[ncats] = file;
    return (uint16_t)ncats++;
}

/* These call glibc themselves: going through malloc() with the category in
 * a global would not work, as the compiler may assume that malloc() reads
 * no global of ours and drop the store. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)line;
    void *p = __libc_malloc(n);
    if (!busy) {
        busy = 1;
        track(p, file_cat(file));
        busy = 0;
    }
    return p;
}

static void *ossl_realloc(void *old, size_t n, const char *file, int line)
{
    (void)line;
    if (!busy && old) {
        busy = 1;
        untrack(old);
        busy = 0;
    }
    void *p = __libc_realloc(old, n);
    if (!busy && p) {
        busy = 1;
        track(p, file_cat(file));
        busy = 0;
    }
    return p;
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

void w6_count_init(void)
{
    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free))
        fprintf(stderr, "w6_malloc_count: OpenSSL allocated before w6_count_init(); its "
                        "blocks are counted as libcrypto's\n");
}

/* ---- snapshots ---- */

struct pair {
    uint32_t size;
    uint16_t cat;
    int64_t count;
};

struct w6_count {
    int64_t bytes[MAX_CATS], blocks[MAX_CATS];
    struct pair *pairs; /* sorted by (cat, size) */
    size_t npairs;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->cat != y->cat)
        return x->cat < y->cat ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

struct w6_count *w6_count_snapshot(void)
{
    busy = 1;
    struct w6_count *s = __libc_calloc(1, sizeof *s);
    memcpy(s->bytes, live_bytes, sizeof live_bytes);
    memcpy(s->blocks, live_blocks, sizeof live_blocks);
    size_t cap = 1 << 16;
    s->pairs = __libc_malloc(cap * sizeof *s->pairs);
    /* (cat, size) -> count through a small open-addressing map. */
    size_t mapsize = 1 << 18;
    struct pair *map = __libc_calloc(mapsize, sizeof *map);
    for (size_t i = 0; table && i < TABLE_SIZE; i++) {
        if (!table[i].key)
            continue;
        uint64_t h = ((uint64_t)table[i].size * 131 + table[i].cat) * 0x9E3779B97F4A7C15ull;
        size_t j = (size_t)(h >> 46) & (mapsize - 1);
        while (map[j].count && (map[j].size != table[i].size || map[j].cat != table[i].cat))
            j = (j + 1) & (mapsize - 1);
        map[j].size = table[i].size;
        map[j].cat = table[i].cat;
        map[j].count++;
    }
    for (size_t j = 0; j < mapsize; j++) {
        if (!map[j].count)
            continue;
        if (s->npairs == cap) {
            cap *= 2;
            s->pairs = __libc_realloc(s->pairs, cap * sizeof *s->pairs);
        }
        s->pairs[s->npairs++] = map[j];
    }
    __libc_free(map);
    qsort(s->pairs, s->npairs, sizeof *s->pairs, cmp_pair);
    busy = 0;
    return s;
}

struct delta {
    int cat;
    uint32_t size;
    double bytes, blocks;
};

static int cmp_delta(const void *a, const void *b)
{
    const struct delta *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static int64_t count_of(const struct w6_count *s, uint16_t cat, uint32_t size)
{
    size_t lo = 0, hi = s->npairs;
    struct pair key = { size, cat, 0 };
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_pair(&s->pairs[mid], &key);
        if (c == 0)
            return s->pairs[mid].count;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void w6_count_report(FILE *f, const struct w6_count *a, const struct w6_count *b, int n)
{
    busy = 1;
    struct delta *d = __libc_calloc(MAX_CATS, sizeof *d);
    double total = 0, total_blocks = 0;
    int nd = 0;
    for (int c = 0; c < ncats; c++) {
        double by = (double)(b->bytes[c] - a->bytes[c]) / n;
        double bl = (double)(b->blocks[c] - a->blocks[c]) / n;
        total += by;
        total_blocks += bl;
        if (by >= 0.5 || by <= -0.5)
            d[nd++] = (struct delta){ c, 0, by, bl };
    }
    qsort(d, (size_t)nd, sizeof *d, cmp_delta);
    fprintf(f, "malloc'd bytes live per connection, by who asked (usable size; glibc adds 8 "
               "to 16 bytes of header per block):\n");
    fprintf(f, "  %-52s %10s %8s\n", "total", "bytes", "blocks");
    fprintf(f, "  %-52s %10.0f %8.1f\n", "all", total, total_blocks);
    for (int i = 0; i < nd; i++)
        fprintf(f, "  %-52s %10.0f %8.1f\n", cat_names[d[i].cat] ? cat_names[d[i].cat] : "?",
                d[i].bytes, d[i].blocks);

    /* The same by block size: which structures. */
    struct delta *z = __libc_calloc(b->npairs + 1, sizeof *z);
    int nz = 0;
    for (size_t i = 0; i < b->npairs; i++) {
        const struct pair *p = &b->pairs[i];
        int64_t before = count_of(a, p->cat, p->size);
        double bl = (double)(p->count - before) / n;
        if (bl * p->size >= 16)
            z[nz++] = (struct delta){ p->cat, p->size, bl * p->size, bl };
    }
    qsort(z, (size_t)nz, sizeof *z, cmp_delta);
    fprintf(f, "largest per-connection block sizes (those worth 16 bytes or more per "
               "connection):\n");
    fprintf(f, "  %-52s %8s %10s %8s\n", "who", "size", "bytes", "blocks");
    for (int i = 0; i < nz && i < 40; i++)
        fprintf(f, "  %-52s %8u %10.0f %8.2f\n",
                cat_names[z[i].cat] ? cat_names[z[i].cat] : "?", z[i].size, z[i].bytes,
                z[i].blocks);
    __libc_free(z);
    __libc_free(d);
    busy = 0;
}
