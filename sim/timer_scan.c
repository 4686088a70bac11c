/* timer_scan.c: the earliest of up to 64 timers by (time, seq), one entry
 * skipped (timer_scan.h). Each scan takes the minimum of the times (no
 * branch, short dependency chains), marks its holders in a bit mask and
 * settles equal times (rare) by seq. The skipped entry is read as +inf in
 * registers: the engine skips the timer that is firing, before it stores
 * +inf there, so the scan's wide loads never wait for that store.
 *
 * Up to 16 timers (4, 8, 12 or 16 after padding) each size has its own
 * loop-free body: a tree of minima, and the equality masks narrowed to
 * one byte per timer and read by one movemask (SSE2, about 40
 * instructions for 12 timers), or four timers per vector and one movemask
 * each (AVX2). Larger sets loop over pairs of lanes (SSE2); without SSE2
 * a scalar loop does it all. Measured on kofn-queue (`stragsim run
 * configs/bench-kofn-queue.ini`, 12 timers; callgrind at 10^5 jobs, CPU
 * time of 30 alternating pairs at 10^6, 2026-12-03): the loop-free SSE2
 * bodies took the run from 622.6 M instructions to 591.1 M against a
 * loop; AVX2 against SSE2, 566.9 M against 612.0 M and 1.023 (95%
 * interval 1.016 to 1.031). The AVX2 functions are compiled for AVX2 on
 * their own (target attribute) and chosen at run time, so the binary runs
 * on any x86-64.
 */
#include "sim/timer_scan.h"

#include <math.h>
#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SCAN_X86_AVX2 1
#endif

/* All bits but skip's (none cleared when skip is past the 64 entries). */
static inline uint64_t keep_mask(uint32_t skip)
{
    return skip < 64 ? ~((uint64_t)1 << skip) : ~(uint64_t)0;
}

/* The least seq among the entries in mask (at least one). */
static inline __attribute__((always_inline)) uint32_t settle(const uint64_t *seq, uint64_t mask)
{
    uint32_t best = (uint32_t)__builtin_ctzll(mask);
    for (mask &= mask - 1; mask; mask &= mask - 1) {
        uint32_t i = (uint32_t)__builtin_ctzll(mask);
        if (seq[i] < seq[best])
            best = i;
    }
    return best;
}

static uint32_t scan_portable(const double *t, const uint64_t *seq, uint32_t n, uint32_t skip)
{
    double m = (double)INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        double ti = i == skip ? (double)INFINITY : t[i];
        m = ti < m ? ti : m;
    }
    uint64_t mask = 0;
    for (uint32_t i = 0; i < n; i++)
        mask |= (uint64_t)(t[i] == m) << i;
    return settle(seq, mask & keep_mask(skip));
}

#ifdef __SSE2__
/* Lanes 2i and 2i + 1 of t, the one numbered skip (as a double in s) set
 * to +inf. */
static inline __attribute__((always_inline)) __m128d sse2_load(const double *t, uint32_t i,
                                                               __m128d s)
{
    __m128d kill = _mm_cmpeq_pd(_mm_set_pd(2.0 * i + 1, 2.0 * i), s);
    return _mm_or_pd(_mm_andnot_pd(kill, _mm_loadu_pd(t + 2 * i)),
                     _mm_and_pd(kill, _mm_set1_pd((double)INFINITY)));
}

/* Up to 16 timers, nv = 2, 4, 6 or 8 vectors (a constant once inlined): no
 * loop, a tree of minima, then the nv equality masks narrowed to one byte
 * per timer (shufps keeps the low half of each 64-bit lane, then two
 * saturating packs) and read by one movemask. */
static inline __attribute__((always_inline)) uint32_t
scan_sse2_small(const double *t, const uint64_t *seq, int nv, uint32_t skip)
{
    __m128d v[8], r[8], s = _mm_set1_pd((double)skip);
    for (int i = 0; i < nv; i++)
        r[i] = v[i] = sse2_load(t, (uint32_t)i, s);
    for (int w = nv; w > 1; w = (w + 1) / 2) {
        for (int i = 0; i < w / 2; i++)
            r[i] = _mm_min_pd(r[2 * i], r[2 * i + 1]);
        if (w % 2)
            r[w / 2] = r[w - 1];
    }
    __m128d m = _mm_min_sd(r[0], _mm_unpackhi_pd(r[0], r[0]));
    m = _mm_unpacklo_pd(m, m);
    __m128i q[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(),
                    _mm_setzero_si128()};
    for (int i = 0; i < nv / 2; i++)
        q[i] = _mm_castps_si128(_mm_shuffle_ps(_mm_castpd_ps(_mm_cmpeq_pd(v[2 * i], m)),
                                               _mm_castpd_ps(_mm_cmpeq_pd(v[2 * i + 1], m)),
                                               _MM_SHUFFLE(2, 0, 2, 0)));
    uint64_t mask = (uint32_t)_mm_movemask_epi8(
        _mm_packs_epi16(_mm_packs_epi32(q[0], q[1]), _mm_packs_epi32(q[2], q[3])));
    return settle(seq, mask & keep_mask(skip));
}

#define SCAN_SSE2(n)                                                                              \
    static uint32_t scan_sse2_##n(const double *t, const uint64_t *seq, uint32_t count,           \
                                  uint32_t skip)                                                  \
    {                                                                                             \
        (void)count;                                                                              \
        return scan_sse2_small(t, seq, n / 2, skip);                                              \
    }
SCAN_SSE2(4)
SCAN_SSE2(8)
SCAN_SSE2(12)
SCAN_SSE2(16)

/* Any multiple of 4: two running minima, then the holders two at a time. */
static uint32_t scan_sse2_any(const double *t, const uint64_t *seq, uint32_t n, uint32_t skip)
{
    __m128d s = _mm_set1_pd((double)skip);
    __m128d m0 = sse2_load(t, 0, s), m1 = sse2_load(t, 1, s);
    for (uint32_t i = 4; i < n; i += 4) {
        m0 = _mm_min_pd(m0, sse2_load(t, i / 2, s));
        m1 = _mm_min_pd(m1, sse2_load(t, i / 2 + 1, s));
    }
    m0 = _mm_min_pd(m0, m1);
    m0 = _mm_min_sd(m0, _mm_unpackhi_pd(m0, m0));
    __m128d m = _mm_unpacklo_pd(m0, m0);
    uint64_t mask = 0;
    for (uint32_t i = 0; i < n; i += 2)
        mask |= (uint64_t)_mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(t + i), m)) << i;
    return settle(seq, mask & keep_mask(skip));
}
#endif

#ifdef SCAN_X86_AVX2
/* scan_sse2_small four lanes at a time: nv = 1 to 4 vectors. */
__attribute__((target("avx2"), always_inline)) static inline uint32_t
scan_avx2_small(const double *t, const uint64_t *seq, int nv, uint32_t skip)
{
    __m256d v[4], r[4];
    __m256i s = _mm256_set1_epi64x(skip);
    for (int i = 0; i < nv; i++) {
        __m256i lanes = _mm256_setr_epi64x(4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3);
        __m256d kill = _mm256_castsi256_pd(_mm256_cmpeq_epi64(lanes, s));
        r[i] = v[i] = _mm256_blendv_pd(_mm256_loadu_pd(t + 4 * i),
                                       _mm256_set1_pd((double)INFINITY), kill);
    }
    for (int w = nv; w > 1; w = (w + 1) / 2) {
        for (int i = 0; i < w / 2; i++)
            r[i] = _mm256_min_pd(r[2 * i], r[2 * i + 1]);
        if (w % 2)
            r[w / 2] = r[w - 1];
    }
    __m128d h = _mm_min_pd(_mm256_castpd256_pd128(r[0]), _mm256_extractf128_pd(r[0], 1));
    h = _mm_min_sd(h, _mm_unpackhi_pd(h, h));
    __m256d m = _mm256_broadcastsd_pd(h);
    uint64_t mask = 0;
    for (int i = 0; i < nv; i++)
        mask |= (uint64_t)_mm256_movemask_pd(_mm256_cmp_pd(v[i], m, _CMP_EQ_OQ)) << (4 * i);
    return settle(seq, mask & keep_mask(skip));
}

#define SCAN_AVX2(n)                                                                              \
    __attribute__((target("avx2"))) static uint32_t scan_avx2_##n(                                \
        const double *t, const uint64_t *seq, uint32_t count, uint32_t skip)                      \
    {                                                                                             \
        (void)count;                                                                              \
        return scan_avx2_small(t, seq, n / 4, skip);                                              \
    }
SCAN_AVX2(4)
SCAN_AVX2(8)
SCAN_AVX2(12)
SCAN_AVX2(16)
#endif

bool timer_scan_isa_supported(enum timer_scan_isa isa)
{
    switch (isa) {
    case TIMER_SCAN_PORTABLE:
        return true;
    case TIMER_SCAN_SSE2:
#ifdef __SSE2__
        return true;
#else
        return false;
#endif
    case TIMER_SCAN_AVX2:
#ifdef SCAN_X86_AVX2
        return __builtin_cpu_supports("avx2");
#else
        return false;
#endif
    }
    return false;
}

enum timer_scan_isa timer_scan_isa_best(void)
{
    if (timer_scan_isa_supported(TIMER_SCAN_AVX2))
        return TIMER_SCAN_AVX2;
    if (timer_scan_isa_supported(TIMER_SCAN_SSE2))
        return TIMER_SCAN_SSE2;
    return TIMER_SCAN_PORTABLE;
}

timer_scan_fn timer_scan_choose(uint32_t n, enum timer_scan_isa isa)
{
    uint32_t size = (n - 1) / 4; /* 0 to 3 for the padded sizes 4 to 16 */
#ifdef SCAN_X86_AVX2
    static const timer_scan_fn avx2[] = {scan_avx2_4, scan_avx2_8, scan_avx2_12, scan_avx2_16};
    if (isa == TIMER_SCAN_AVX2 && n >= 4 && n <= 16)
        return avx2[size];
#endif
#ifdef __SSE2__
    static const timer_scan_fn sse2[] = {scan_sse2_4, scan_sse2_8, scan_sse2_12, scan_sse2_16};
    if (isa != TIMER_SCAN_PORTABLE)
        return n >= 4 && n <= 16 ? sse2[size] : scan_sse2_any;
#endif
    (void)size;
    return scan_portable;
}
