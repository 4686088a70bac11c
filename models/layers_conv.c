/* layers_conv.c: 2-D convolution as im2col + cblas_sgemm: the backward of
 * every path and the reference forward (the direct forward paths are in
 * layers_conv_direct.c; conv2d_forward hands over to them unless the layer's
 * path is im2col).
 *
 * The batch goes through in chunks of a few images. A chunk is unrolled into
 * a column matrix col (C*K*K, nb*PC) and each pass is a GEMM:
 *   forward:  tmp (OC, nb*PC) = weight (OC, CKK) col      then tmp -> out (B,OC,OH,OW) + bias
 *   backward: tmp (OC, nb*PC) = dout, channel-major
 *             dweight (OC, CKK) += tmp col^T
 *             dcol (CKK, nb*PC) = weight^T tmp             then col2im -> dinp
 * (CKK = C*K*K.) Chunks of ~256 KiB of columns (per OpenBLAS thread) reuse
 * one small scratch that stays in L2; unrolling the whole batch into one
 * 20 MB matrix was 1.4x slower, because every im2col store then missed the
 * cache (measured on LeNet5, batch 256, one thread).
 * For stride 1 the columns use the "wide" layout: an output row is WP
 * (padded input width) columns, not OW, so the im2col row of one kernel tap
 * (c,ky,kx) in one image is a single contiguous slice of the padded input
 * plane, starting at ky*WP + kx. That turns ~OH short copies into one long
 * one, at the price of WP-OW wasted GEMM columns per row, which are never
 * copied out and get zero gradient. Strides above 1 use the classic layout
 * (PITCH = OW). The im2col, crop and transpose loops are plain
 * single-threaded loops; only OpenBLAS's GEMMs use threads (as many as the
 * caller gave OpenBLAS). Scratch comes from the caller (conv2d_col_size).
 */
#include <cblas.h>
#include <string.h>

#include "models/layers.h"

int conv2d_dims_make(struct conv2d_dims *d, int C, int H, int W, int OC, int K, int stride, int pad)
{
    if (C < 1 || H < 1 || W < 1 || OC < 1 || K < 1 || stride < 1 || pad < 0)
        return -1;
    if (H + 2 * pad < K || W + 2 * pad < K)
        return -1;
    *d = (struct conv2d_dims){ .C = C, .H = H, .W = W, .OC = OC, .K = K, .stride = stride,
                               .pad = pad, .OH = (H + 2 * pad - K) / stride + 1,
                               .OW = (W + 2 * pad - K) / stride + 1,
                               .HP = H + 2 * pad, .WP = W + 2 * pad };
    d->PITCH = stride == 1 ? d->WP : d->OW;
    d->PC = d->OH * d->PITCH;
    d->path = conv2d_path_default();
    return 0;
}

bool conv2d_is_direct(const struct conv2d_dims *d)
{
    return d->path != CONV2D_IM2COL && conv2d_path_supported(d->path);
}

/* Sum of n floats in 8 independent lanes: one running sum is a chain of
 * dependent adds the compiler may not vectorise (it was a fifth of the conv
 * backward time). */
static float sum_floats(const float *x, int n)
{
    float lane[8] = { 0 };
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            lane[k] += x[i + k];
    float s = 0.0f;
    for (; i < n; i++)
        s += x[i];
    for (int k = 0; k < 8; k++)
        s += lane[k];
    return s;
}

/* Row stride of the column matrices: B*PC rounded up to an ODD number of
 * 64-byte lines, so that rows never all map to the same cache sets (as they
 * would when B*PC is a multiple of a large power of two). */
static size_t conv2d_ld(const struct conv2d_dims *d, int B)
{
    size_t lines = ((size_t)B * d->PC + 15) / 16;
    return (lines | 1) * 16;
}

enum { CONV_CHUNK_THREADS_MAX = 4 }; /* see conv2d_chunk_for */

static int conv2d_chunk_for(const struct conv2d_dims *d, int B, int threads);

size_t conv2d_col_size(const struct conv2d_dims *d, int B)
{
    // for one chunk of images: col or dcol (CKK, ld), then tmp (OC, ld), then
    // the padded input or its gradient (chunk, C, HP, WP); the largest chunk
    // any thread count uses, so the caller may change threads afterwards
    // (the direct forward's scratch, if larger, for any path)
    int chunk = conv2d_chunk_for(d, B, CONV_CHUNK_THREADS_MAX);
    size_t im2col = ((size_t)d->C * d->K * d->K + (size_t)d->OC) * conv2d_ld(d, chunk) +
                    (size_t)chunk * d->C * d->HP * d->WP;
    size_t direct = conv2d_direct_scratch_size(d);
    return im2col > direct ? im2col : direct;
}

/* Where the padded-input scratch starts inside col / dcol. */
static float *conv2d_pad_scratch(float *col, const struct conv2d_dims *d, int B)
{
    return col + ((size_t)d->C * d->K * d->K + (size_t)d->OC) * conv2d_ld(d, B);
}

// inp is (B,C,H,W), xpad is (B,C,HP,WP): inp with pad zeros around each plane
static void conv2d_pad(float *xpad, const float *inp, const struct conv2d_dims *d, int B)
{
    const size_t planes = (size_t)B * d->C;
    for (size_t p = 0; p < planes; p++) {
        float *dst = xpad + p * d->HP * d->WP;
        const float *src = inp + p * d->H * d->W;
        memset(dst, 0, sizeof(float) * (size_t)d->pad * d->WP);
        for (int y = 0; y < d->H; y++) {
            float *row = dst + (size_t)(y + d->pad) * d->WP;
            memset(row, 0, sizeof(float) * (size_t)d->pad);
            memcpy(row + d->pad, src + (size_t)y * d->W, sizeof(float) * (size_t)d->W);
            memset(row + d->pad + d->W, 0, sizeof(float) * (size_t)d->pad);
        }
        memset(dst + (size_t)(d->pad + d->H) * d->WP, 0, sizeof(float) * (size_t)d->pad * d->WP);
    }
}

// stride 1, xpad is (B,C,HP,WP), col is (CKK, ld) from column 0:
// col[(c,ky,kx)][b*PC + j] = xpad[b][c][ky*WP + kx + j] for j < (OH-1)*WP + OW
// (the tail, which would run past the plane, is zero)
static void im2col_wide(float *col, size_t ld, const float *xpad, const struct conv2d_dims *d, int B)
{
    const int K = d->K;
    const size_t plane = (size_t)d->HP * d->WP, span = (size_t)(d->OH - 1) * d->WP + d->OW;
    for (int c = 0; c < d->C; c++) {
        for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
                float *row = col + ((size_t)(c * K + ky) * K + kx) * ld;
                for (int b = 0; b < B; b++) {
                    const float *src = xpad + ((size_t)b * d->C + c) * plane + (size_t)ky * d->WP + kx;
                    float *dst = row + (size_t)b * d->PC;
                    memcpy(dst, src, sizeof(float) * span);
                    memset(dst + span, 0, sizeof(float) * ((size_t)d->PC - span));
                }
            }
        }
    }
}

// any stride, classic layout: col[(c,ky,kx)][b*PC + oy*OW + ox] =
// xpad[b][c][oy*s + ky][ox*s + kx]
static void im2col_strided(float *col, size_t ld, const float *xpad, const struct conv2d_dims *d, int B)
{
    const int K = d->K, S = d->stride;
    const size_t plane = (size_t)d->HP * d->WP;
    for (int c = 0; c < d->C; c++) {
        for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
                float *row = col + ((size_t)(c * K + ky) * K + kx) * ld;
                for (int b = 0; b < B; b++) {
                    const float *src = xpad + ((size_t)b * d->C + c) * plane + (size_t)ky * d->WP + kx;
                    float *dst = row + (size_t)b * d->PC;
                    for (int oy = 0; oy < d->OH; oy++)
                        for (int ox = 0; ox < d->OW; ox++)
                            dst[oy * d->OW + ox] = src[(size_t)oy * S * d->WP + (size_t)ox * S];
                }
            }
        }
    }
}

// im2col of nb images into columns [0, nb*PC) of col (CKK, ld); xpad is
// scratch for the padded images
static void im2col(float *col, size_t ld, const float *inp, float *xpad, const struct conv2d_dims *d,
                   int nb)
{
    const float *src = inp;
    if (d->pad > 0) {
        conv2d_pad(xpad, inp, d, nb);
        src = xpad;
    }
    if (d->stride == 1)
        im2col_wide(col, ld, src, d, nb);
    else
        im2col_strided(col, ld, src, d, nb);
}

// the adjoint of im2col: dxpad (B,C,HP,WP) = sum over the columns that read each pixel
static void col2im(float *dxpad, const float *dcol, size_t ld, const struct conv2d_dims *d, int B)
{
    const int K = d->K, S = d->stride;
    const size_t plane = (size_t)d->HP * d->WP;
    const size_t span = (size_t)(d->OH - 1) * d->WP + d->OW;
    memset(dxpad, 0, sizeof(float) * (size_t)B * d->C * plane);
    for (int c = 0; c < d->C; c++) {
        for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
                const float *row = dcol + ((size_t)(c * K + ky) * K + kx) * ld;
                for (int b = 0; b < B; b++) {
                    float *dst = dxpad + ((size_t)b * d->C + c) * plane + (size_t)ky * d->WP + kx;
                    const float *src = row + (size_t)b * d->PC;
                    if (S == 1) {
                        // wasted columns carry zero gradient, so one long add is exact
                        for (size_t j = 0; j < span; j++)
                            dst[j] += src[j];
                    } else {
                        for (int oy = 0; oy < d->OH; oy++)
                            for (int ox = 0; ox < d->OW; ox++)
                                dst[(size_t)oy * S * d->WP + (size_t)ox * S] += src[oy * d->OW + ox];
                    }
                }
            }
        }
    }
}

/* Images per step: about 256 KiB of columns per OpenBLAS thread, so a
 * step's columns stay in L2 from im2col through OpenBLAS's packing to the
 * crop, and every step reuses the same scratch. Measured on LeNet5 at batch
 * 256, one thread: 64 KiB to 4 MiB per step are within 10% of each other,
 * the whole batch at once is 1.4x slower (every im2col store misses). More
 * threads get proportionally larger steps, so each still gets its share. */
#ifndef CONV_CHUNK_BYTES
#define CONV_CHUNK_BYTES (256u << 10)
#endif

/* Images per step for `threads` OpenBLAS threads (capped, so that
 * conv2d_col_size can size the scratch for any thread count). */
static int conv2d_chunk_for(const struct conv2d_dims *d, int B, int threads)
{
    size_t per_image = (size_t)(d->C * d->K * d->K + d->OC) * d->PC * sizeof(float);
    threads = threads < 1 ? 1 : threads > CONV_CHUNK_THREADS_MAX ? CONV_CHUNK_THREADS_MAX : threads;
    int n = (int)((size_t)CONV_CHUNK_BYTES * (size_t)threads / per_image);
    return n < 1 ? 1 : n < B ? n : B;
}

static int conv2d_chunk(const struct conv2d_dims *d, int B)
{
    return conv2d_chunk_for(d, B, openblas_get_num_threads());
}

void conv2d_forward(float *out, float *col, const float *inp, const float *weight,
                    const float *bias, const struct conv2d_dims *d, int B)
{
    // inp is (B,C,H,W), weight is (OC,C,K,K), bias is (OC) or NULL, out is (B,OC,OH,OW)
    if (conv2d_is_direct(d)) {
        conv2d_forward_fused(out, col, inp, weight, bias, d, B, NULL);
        return;
    }
    const int CKK = d->C * d->K * d->K, P = d->OH * d->OW;
    const int chunk = conv2d_chunk(d, B);
    const size_t ld = conv2d_ld(d, chunk);
    float *tmp = col + (size_t)CKK * ld; // (OC, chunk*PC)
    float *xpad = conv2d_pad_scratch(col, d, chunk);
    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        im2col(col, ld, inp + (size_t)b0 * d->C * d->H * d->W, xpad, d, nb);
        // most of the running time is spent here
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->OC, nb * d->PC, CKK, 1.0f,
                    weight, CKK, col, (int)ld, 0.0f, tmp, (int)ld);
        // crop the wasted columns, add the bias, and go back to (B,OC,OH,OW)
        for (int b = 0; b < nb; b++) {
            for (int o = 0; o < d->OC; o++) {
                const float *src = tmp + (size_t)o * ld + (size_t)b * d->PC;
                float *dst = out + ((size_t)(b0 + b) * d->OC + o) * P;
                const float bo = bias ? bias[o] : 0.0f;
                for (int oy = 0; oy < d->OH; oy++)
                    for (int ox = 0; ox < d->OW; ox++)
                        dst[oy * d->OW + ox] = src[oy * d->PITCH + ox] + bo;
            }
        }
    }
}

void conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                     const float *inp, const float *weight, float *col,
                     const struct conv2d_dims *d, int B)
{
    // dout is (B,OC,OH,OW), inp and dinp are (B,C,H,W), weight and dweight are (OC,C,K,K)
    const int CKK = d->C * d->K * d->K, P = d->OH * d->OW;
    const int chunk = conv2d_chunk(d, B);
    const size_t ld = conv2d_ld(d, chunk);
    float *tmp = col + (size_t)CKK * ld; // dout channel-major, wide: (OC, chunk*PC)
    float *xpad = conv2d_pad_scratch(col, d, chunk);
    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        im2col(col, ld, inp + (size_t)b0 * d->C * d->H * d->W, xpad, d, nb);
        for (int o = 0; o < d->OC; o++) {
            float sum = 0.0f;
            for (int b = 0; b < nb; b++) {
                const float *src = dout + ((size_t)(b0 + b) * d->OC + o) * P;
                float *dst = tmp + (size_t)o * ld + (size_t)b * d->PC;
                memset(dst, 0, sizeof(float) * (size_t)d->PC); // wasted columns: zero gradient
                for (int oy = 0; oy < d->OH; oy++)
                    memcpy(dst + (size_t)oy * d->PITCH, src + (size_t)oy * d->OW,
                           sizeof(float) * (size_t)d->OW);
                if (dbias)
                    sum += sum_floats(src, P);
            }
            if (dbias)
                dbias[o] += sum;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->OC, CKK, nb * d->PC, 1.0f, tmp,
                    (int)ld, col, (int)ld, 1.0f, dweight, CKK);
        if (!dinp)
            continue;
        // the columns are spent: dcol overwrites them, dxpad the padded input
        float *dcol = col;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, nb * d->PC, d->OC, 1.0f, weight,
                    CKK, tmp, (int)ld, 0.0f, dcol, (int)ld);
        float *dx = dinp + (size_t)b0 * d->C * d->H * d->W;
        float *dxpad = d->pad > 0 ? xpad : dx;
        col2im(dxpad, dcol, ld, d, nb);
        if (d->pad > 0) {
            // crop the padding off the gradient
            const size_t planes = (size_t)nb * d->C;
            for (size_t p = 0; p < planes; p++)
                for (int y = 0; y < d->H; y++)
                    memcpy(dx + (p * d->H + y) * d->W,
                           dxpad + (p * d->HP + y + d->pad) * d->WP + d->pad,
                           sizeof(float) * (size_t)d->W);
        }
    }
}
