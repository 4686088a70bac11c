/* decode_cache.c: open-addressing hash table from straggler-pattern bitsets
 * to decoding matrices (see decode_cache.h). */
#include "schemes/codes/decode_cache.h"

#include <stdlib.h>
#include <string.h>

struct decode_cache {
    int workers, rows, words;  /* words = ceil(workers / 64) per key */
    size_t capacity, count, max_entries; /* capacity: power of two, > 2 max_entries */
    uint64_t *keys;            /* capacity x words */
    double **mats;             /* capacity; NULL marks an empty slot */
    uint64_t *scratch;         /* the key being looked up */
    decode_build_fn build;
    void *ctx;
    uint64_t hits, misses;
};

struct decode_cache *decode_cache_new(int workers, int rows, size_t max_entries,
                                      decode_build_fn build, void *ctx)
{
    if (workers < 1 || rows < 1 || !build)
        return NULL;
    struct decode_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->workers = workers;
    c->rows = rows;
    c->words = (workers + 63) / 64;
    c->max_entries = max_entries ? max_entries : 4096;
    c->capacity = 16;
    while (c->capacity < 2 * c->max_entries + 1)
        c->capacity *= 2;
    c->keys = calloc(c->capacity * c->words, sizeof *c->keys);
    c->mats = calloc(c->capacity, sizeof *c->mats);
    c->scratch = calloc(c->words, sizeof *c->scratch);
    c->build = build;
    c->ctx = ctx;
    if (!c->keys || !c->mats || !c->scratch) {
        decode_cache_free(c);
        return NULL;
    }
    return c;
}

static void cache_flush(struct decode_cache *c)
{
    for (size_t i = 0; i < c->capacity; i++) {
        free(c->mats[i]);
        c->mats[i] = NULL;
    }
    c->count = 0;
}

void decode_cache_free(struct decode_cache *c)
{
    if (!c)
        return;
    if (c->mats)
        cache_flush(c);
    free(c->keys);
    free(c->mats);
    free(c->scratch);
    free(c);
}

static uint64_t key_hash(const uint64_t *key, int words)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < words; i++) { /* splitmix64 finaliser per word */
        uint64_t x = key[i] + h;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        h = x ^ (x >> 31);
    }
    return h;
}

int decode_cache_get(struct decode_cache *c, const int *returned, int nf, const double **D,
                     struct error *err)
{
    memset(c->scratch, 0, (size_t)c->words * sizeof *c->scratch);
    for (int l = 0; l < nf; l++)
        c->scratch[returned[l] / 64] |= 1ull << (returned[l] % 64);
    size_t mask = c->capacity - 1, slot = key_hash(c->scratch, c->words) & mask;
    size_t kbytes = (size_t)c->words * sizeof *c->keys;
    for (; c->mats[slot]; slot = (slot + 1) & mask) {
        if (memcmp(c->keys + slot * c->words, c->scratch, kbytes) == 0) {
            c->hits++;
            *D = c->mats[slot];
            return STRAG_OK;
        }
    }
    c->misses++;
    if (c->count >= c->max_entries) { /* epoch flush, then the slot search again */
        cache_flush(c);
        slot = key_hash(c->scratch, c->words) & mask;
    }
    double *m = malloc((size_t)c->rows * (nf > 0 ? nf : 1) * sizeof *m);
    if (!m)
        return error_fail(err, "decode cache: out of memory");
    int rc = c->build(c->ctx, returned, nf, m, err);
    if (rc != STRAG_OK) {
        free(m);
        return rc;
    }
    memcpy(c->keys + slot * c->words, c->scratch, kbytes);
    c->mats[slot] = m;
    c->count++;
    *D = m;
    return STRAG_OK;
}

uint64_t decode_cache_hits(const struct decode_cache *c)
{
    return c->hits;
}

uint64_t decode_cache_misses(const struct decode_cache *c)
{
    return c->misses;
}
