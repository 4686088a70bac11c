/* layers_pool.c: max and average pooling over K x K windows, stride S.
 *
 * No padding; windows that would run past the edge are dropped (floor), as
 * in PyTorch's default. Every (H,W) plane is independent, so the loops run
 * over B*C planes. Max-pool forward stores no argmax (a pure max vectorises);
 * backward finds it again by comparing the input with the output.
 */
#include <float.h>
#include <string.h>

#include "models/layers.h"

int pool_out_size(int n, int K, int S)
{
    return n >= K ? (n - K) / S + 1 : 0;
}

/* The common 2x2 stride-2 max pool: a branch-free loop the compiler vectorises. */
static void maxpool_plane_2x2(float *out, const float *in, int W, int OH, int OW)
{
    for (int oy = 0; oy < OH; oy++) {
        const float *r0 = in + (size_t)(2 * oy) * W;
        const float *r1 = r0 + W;
        float *o = out + (size_t)oy * OW;
        for (int ox = 0; ox < OW; ox++) {
            float a = r0[2 * ox] > r0[2 * ox + 1] ? r0[2 * ox] : r0[2 * ox + 1];
            float b = r1[2 * ox] > r1[2 * ox + 1] ? r1[2 * ox] : r1[2 * ox + 1];
            o[ox] = a > b ? a : b;
        }
    }
}

static void maxpool_plane(float *out, const float *in, int W, int OH, int OW, int K, int S)
{
    for (int oy = 0; oy < OH; oy++) {
        for (int ox = 0; ox < OW; ox++) {
            float best = -FLT_MAX;
            for (int ky = 0; ky < K; ky++) {
                const float *row = in + (size_t)(oy * S + ky) * W + ox * S;
                for (int kx = 0; kx < K; kx++)
                    best = row[kx] > best ? row[kx] : best;
            }
            out[oy * OW + ox] = best;
        }
    }
}

void maxpool_forward(float *out, const float *inp, int B, int C, int H, int W, int K, int S)
{
    // inp is (B,C,H,W), out is (B,C,OH,OW)
    int OH = pool_out_size(H, K, S), OW = pool_out_size(W, K, S);
    size_t planes = (size_t)B * C, in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    for (size_t p = 0; p < planes; p++) {
        if (K == 2 && S == 2)
            maxpool_plane_2x2(out + p * out_plane, inp + p * in_plane, W, OH, OW);
        else
            maxpool_plane(out + p * out_plane, inp + p * in_plane, W, OH, OW, K, S);
    }
}

/* 2x2 stride 2 backward of one plane: every window writes all four of its
 * pixels (the gradient to the first maximum, zeros elsewhere), no branches.
 * (A gradient times 0 is 0 for any finite gradient.) */
static void maxpool_plane_2x2_backward(float *d, const float *g, const float *in, const float *out,
                                       int W, int OH, int OW)
{
    for (int oy = 0; oy < OH; oy++) {
        const float *r0 = in + (size_t)(2 * oy) * W, *r1 = r0 + W;
        float *d0 = d + (size_t)(2 * oy) * W, *d1 = d0 + W;
        const float *go = g + (size_t)oy * OW, *mo = out + (size_t)oy * OW;
        for (int ox = 0; ox < OW; ox++) {
            int x = 2 * ox;
            float m = mo[ox], gv = go[ox];
            // & and |, not && and ||: random maxima make branches mispredict
            int a = r0[x] == m;
            int b = (r0[x + 1] == m) & !a;
            int c = (r1[x] == m) & !(a | b);
            int e = (r1[x + 1] == m) & !(a | b | c);
            d0[x] = gv * (float)a;
            d0[x + 1] = gv * (float)b;
            d1[x] = gv * (float)c;
            d1[x + 1] = gv * (float)e;
        }
    }
}

void maxpool_backward(float *dinp, const float *dout, const float *inp, const float *out, int B,
                      int C, int H, int W, int K, int S)
{
    // dout and out are (B,C,OH,OW), inp and dinp are (B,C,H,W)
    int OH = pool_out_size(H, K, S), OW = pool_out_size(W, K, S);
    size_t planes = (size_t)B * C, in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    if (K == 2 && S == 2 && H % 2 == 0 && W % 2 == 0) {
        // the windows tile the plane exactly: no zeroing pass
        for (size_t p = 0; p < planes; p++)
            maxpool_plane_2x2_backward(dinp + p * in_plane, dout + p * out_plane, inp + p * in_plane,
                                       out + p * out_plane, W, OH, OW);
        return;
    }
    // windows may overlap (S < K) or leave pixels out (floor): zero, then add
    memset(dinp, 0, sizeof(float) * planes * in_plane);
    for (size_t p = 0; p < planes; p++) {
        const float *in = inp + p * in_plane;
        float *d = dinp + p * in_plane;
        for (int oy = 0; oy < OH; oy++) {
            for (int ox = 0; ox < OW; ox++) {
                size_t o = p * out_plane + (size_t)oy * OW + ox;
                int found = 0;
                for (int ky = 0; ky < K && !found; ky++) {
                    size_t at = (size_t)(oy * S + ky) * W + (size_t)ox * S;
                    for (int kx = 0; kx < K; kx++) {
                        if (in[at + kx] == out[o]) {
                            d[at + kx] += dout[o];
                            found = 1;
                            break;
                        }
                    }
                }
            }
        }
    }
}

void avgpool_forward(float *out, const float *inp, int B, int C, int H, int W, int K, int S)
{
    // inp is (B,C,H,W), out is (B,C,OH,OW)
    int OH = pool_out_size(H, K, S), OW = pool_out_size(W, K, S);
    size_t planes = (size_t)B * C, in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    float inv = 1.0f / (float)(K * K);
    for (size_t p = 0; p < planes; p++) {
        const float *in = inp + p * in_plane;
        float *o = out + p * out_plane;
        for (int oy = 0; oy < OH; oy++) {
            for (int ox = 0; ox < OW; ox++) {
                float sum = 0.0f;
                for (int ky = 0; ky < K; ky++) {
                    const float *row = in + (size_t)(oy * S + ky) * W + ox * S;
                    for (int kx = 0; kx < K; kx++)
                        sum += row[kx];
                }
                o[oy * OW + ox] = sum * inv;
            }
        }
    }
}

void avgpool_backward(float *dinp, const float *dout, int B, int C, int H, int W, int K, int S)
{
    // dout is (B,C,OH,OW), dinp is (B,C,H,W)
    int OH = pool_out_size(H, K, S), OW = pool_out_size(W, K, S);
    size_t planes = (size_t)B * C, in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    float inv = 1.0f / (float)(K * K);
    memset(dinp, 0, sizeof(float) * planes * in_plane);
    for (size_t p = 0; p < planes; p++) {
        float *d = dinp + p * in_plane;
        const float *g = dout + p * out_plane;
        for (int oy = 0; oy < OH; oy++) {
            for (int ox = 0; ox < OW; ox++) {
                float share = g[oy * OW + ox] * inv;
                for (int ky = 0; ky < K; ky++) {
                    float *row = d + (size_t)(oy * S + ky) * W + ox * S;
                    for (int kx = 0; kx < K; kx++)
                        row[kx] += share;
                }
            }
        }
    }
}
