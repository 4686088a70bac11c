/* layers_conv_direct.c: direct vectorised 2-D convolution, with the bias
 * and optionally a max pool and ReLU fused in, and the choice of path
 * (im2col + GEMM, or direct in portable C, AVX2 or AVX-512).
 *
 * Vectors run across images: a group of V images (V = 16 for AVX-512, 8 for
 * AVX2, 1 for portable C) is packed into (C, HP, WPX, V), the zero-padded
 * planes with each pixel's V images side by side, so every weight tap is one
 * broadcast times one contiguous load, for any channel count, kernel, stride
 * and padding, and no lane is wasted when B is a multiple of V. Each output
 * is summed in one fixed order (conv_direct_kernel.h), so all three paths
 * give the same bits and a row's outputs do not depend on the other rows of
 * its batch. The fused epilogue pools and rectifies a band of conv rows
 * while it is in L1 and writes only the pooled (B, OC, PH, PW) output.
 * Backward is not here: layers_conv.c's im2col + GEMM serves every path.
 */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "models/layers.h"

#if defined(__x86_64__) || defined(__i386__)
#define CONV_DIRECT_X86 1
#include <immintrin.h>
#endif

/* The geometry of one direct pass, for one register tile width NP. */
struct conv_direct_plan {
    const struct conv2d_dims *d;
    int KP, SP;     /* pool window and stride (1, 1: none) */
    int PH, PW;     /* output planes (pooled) */
    bool relu;
    int OWX;        /* OW rounded up to a multiple of NP */
    int HP, WPX;    /* packed plane: HP rows of WPX pixels (>= the padded width) */
};

static void conv_direct_plan_make(struct conv_direct_plan *p, const struct conv2d_dims *d,
                                  const struct conv2d_epilogue *ep, int NP)
{
    int KP = ep && ep->pool_k > 0 ? ep->pool_k : 1, SP = ep && ep->pool_k > 0 ? ep->pool_s : 1;
    *p = (struct conv_direct_plan){ .d = d, .KP = KP, .SP = SP,
                                    .PH = pool_out_size(d->OH, KP, SP),
                                    .PW = pool_out_size(d->OW, KP, SP),
                                    .relu = ep && ep->relu,
                                    .OWX = (d->OW + NP - 1) / NP * NP, .HP = d->HP };
    int reach = (p->OWX - 1) * d->stride + d->K; // pixels the last tile reads
    p->WPX = reach > d->WP ? reach : d->WP;
}

static size_t conv_direct_pack_floats(const struct conv_direct_plan *p, int V)
{
    return (size_t)p->d->C * p->HP * p->WPX * V;
}

/* Images b0 .. b0+nb-1 of inp (B,C,H,W) into lanes 0 .. nb-1 of pk
 * (C, HP, WPX, V); the margins stay as the caller zeroed them. */
static void conv_direct_pack(float *pk, const float *inp, const struct conv_direct_plan *p, int V,
                             int b0, int nb)
{
    const struct conv2d_dims *d = p->d;
    const size_t image = (size_t)d->C * d->H * d->W;
    for (int c = 0; c < d->C; c++)
        for (int y = 0; y < d->H; y++) {
            float *dst = pk + ((size_t)(c * p->HP + y + d->pad) * p->WPX + d->pad) * V;
            const float *src = inp + (size_t)b0 * image + ((size_t)c * d->H + y) * d->W;
            for (int x = 0; x < d->W; x++)
                for (int l = 0; l < nb; l++)
                    dst[(size_t)x * V + l] = src[(size_t)l * image + x];
        }
}

/* ---- the template, once per instruction set ----
 * Portable C rounds each multiply-add once with fmaf, as the FMA
 * instructions do (glibc computes it exactly even without hardware FMA:
 * slowly, with the same bits). */

#define CD_NAME(x) x##_portable
#define CD_TARGET
#define CD_V 1
#define CD_NO 2
#define CD_NP 5
#define cd_vec float
#define CD_ZERO() 0.0f
#define CD_LOADU(p) (*(p))
#define CD_STOREU(p, v) (*(p) = (v))
#define CD_BCAST(f) (f)
#define CD_FMA(a, b, c) fmaf((a), (b), (c))
#define CD_ADD(a, b) ((a) + (b))
#define CD_MAX(a, b) ((a) > (b) ? (a) : (b))
#define CD_IN_REGISTER(v) ((void)0)
#include "models/conv_direct_kernel.h"

#ifdef CONV_DIRECT_X86
#define CD_NAME(x) x##_avx2
#define CD_TARGET __attribute__((target("avx2,fma")))
#define CD_V 8
#define CD_NO 2
#define CD_NP 5
#define cd_vec __m256
#define CD_ZERO() _mm256_setzero_ps()
#define CD_LOADU(p) _mm256_loadu_ps(p)
#define CD_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define CD_BCAST(f) _mm256_set1_ps(f)
#define CD_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define CD_ADD(a, b) _mm256_add_ps((a), (b))
#define CD_MAX(a, b) _mm256_max_ps((a), (b))
#define CD_IN_REGISTER(v) __asm__("" : "+x"(v))
#include "models/conv_direct_kernel.h"

#define CD_NAME(x) x##_avx512
#define CD_TARGET __attribute__((target("avx512f")))
#define CD_V 16
#define CD_NO 2
#define CD_NP 5
#define cd_vec __m512
#define CD_ZERO() _mm512_setzero_ps()
#define CD_LOADU(p) _mm512_loadu_ps(p)
#define CD_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define CD_BCAST(f) _mm512_set1_ps(f)
#define CD_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define CD_ADD(a, b) _mm512_add_ps((a), (b))
#define CD_MAX(a, b) _mm512_max_ps((a), (b))
#define CD_IN_REGISTER(v) __asm__("" : "+v"(v))
#include "models/conv_direct_kernel.h"
#endif

/* ---- paths ---- */

/* Lanes and tile width of each direct path (the largest sizes the scratch). */
static const struct {
    const char *name;
    int V, NO, NP;
} conv_paths[] = {
    [CONV2D_IM2COL] = { "im2col", 0, 0, 0 },
    [CONV2D_PORTABLE] = { "portable", 1, 2, 5 },
    [CONV2D_AVX2] = { "avx2", 8, 2, 5 },
    [CONV2D_AVX512] = { "avx512", 16, 2, 5 },
};
enum { CONV2D_PATHS = sizeof conv_paths / sizeof conv_paths[0] };

const char *conv2d_path_name(enum conv2d_path path)
{
    return (unsigned)path < CONV2D_PATHS ? conv_paths[path].name : "?";
}

int conv2d_path_parse(const char *name, enum conv2d_path *out)
{
    if (strcmp(name, "auto") == 0) {
        *out = conv2d_path_best();
        return 0;
    }
    for (int i = 0; i < CONV2D_PATHS; i++)
        if (strcmp(name, conv_paths[i].name) == 0) {
            *out = (enum conv2d_path)i;
            return 0;
        }
    return -1;
}

bool conv2d_path_supported(enum conv2d_path path)
{
    switch (path) {
    case CONV2D_IM2COL:
    case CONV2D_PORTABLE:
        return true;
#ifdef CONV_DIRECT_X86
    case CONV2D_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CONV2D_AVX512:
        return __builtin_cpu_supports("avx512f");
#else
    case CONV2D_AVX2:
    case CONV2D_AVX512:
        return false;
#endif
    }
    return false;
}

enum conv2d_path conv2d_path_best(void)
{
    if (conv2d_path_supported(CONV2D_AVX512))
        return CONV2D_AVX512;
    if (conv2d_path_supported(CONV2D_AVX2))
        return CONV2D_AVX2;
    return CONV2D_PORTABLE;
}

/* -1: not chosen yet (the best path on first use) */
static atomic_int default_path = -1;

enum conv2d_path conv2d_path_default(void)
{
    int p = atomic_load(&default_path);
    if (p < 0) {
        p = (int)conv2d_path_best();
        atomic_store(&default_path, p);
    }
    return (enum conv2d_path)p;
}

void conv2d_path_set_default(enum conv2d_path path)
{
    atomic_store(&default_path, (int)path);
}

size_t conv2d_direct_scratch_size(const struct conv2d_dims *d)
{
    size_t most = 0;
    for (int i = 0; i < CONV2D_PATHS; i++) {
        if (conv_paths[i].V == 0)
            continue;
        struct conv_direct_plan p;
        conv_direct_plan_make(&p, d, NULL, conv_paths[i].NP);
        // the packed group, then a band of up to OH conv rows (a pool window
        // spans at most OH), and a vector's worth of slack
        size_t n = conv_direct_pack_floats(&p, conv_paths[i].V) +
                   (size_t)conv_paths[i].NO * d->OH * p.OWX * conv_paths[i].V + 16;
        most = n > most ? n : most;
    }
    return most;
}

void conv2d_forward_fused(float *out, float *scratch, const float *inp, const float *weight,
                          const float *bias, const struct conv2d_dims *d, int B,
                          const struct conv2d_epilogue *ep)
{
    enum conv2d_path path = d->path;
    if (path == CONV2D_IM2COL || !conv2d_path_supported(path))
        path = CONV2D_PORTABLE; // callers check conv2d_is_direct; stay correct anyway
    if (path == CONV2D_AVX512 && B <= conv_paths[CONV2D_AVX2].V && conv2d_path_supported(CONV2D_AVX2))
        path = CONV2D_AVX2; // the same bits, with fewer empty lanes
    struct conv_direct_plan p;
    conv_direct_plan_make(&p, d, ep, conv_paths[path].NP);
    switch (path) {
#ifdef CONV_DIRECT_X86
    case CONV2D_AVX512:
        conv_direct_run_avx512(out, scratch, inp, weight, bias, &p, B);
        break;
    case CONV2D_AVX2:
        conv_direct_run_avx2(out, scratch, inp, weight, bias, &p, B);
        break;
#endif
    default:
        conv_direct_run_portable(out, scratch, inp, weight, bias, &p, B);
        break;
    }
}
