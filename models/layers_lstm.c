/* layers_lstm.c: the LSTM layer (one layer, zero initial state) on
 * cblas_sgemm, forward over a whole sequence and backward through time.
 *
 * Gates are PyTorch's, in its order i, f, g, o:
 *   a_t = W_ih x_t + W_hh h_{t-1} + b          (4H pre-activations)
 *   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
 *   c_t = f c_{t-1} + i g        h_t = o tanh(c_t)      (h_0 = c_0 = 0)
 * The input projection of every time step is one GEMM over the batch and
 * the sequence; only the recurrent GEMM runs step by step. Where the time
 * goes: for large H the T recurrent GEMMs (B,H)x(H,4H), which cannot be
 * batched over steps; for a small H like the latency predictor's, the gate
 * loop (five exp/tanh per unit and step). It does not know about models or
 * spec text (model.c maps a Cx1xT activation onto it).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "models/layers.h"

size_t lstm_cache_size(int B, int T, int H)
{
    return (size_t)B * T * 5 * H;
}

size_t lstm_scratch_size(int B, int T, int H)
{
    return (size_t)B * T * 4 * H + 2 * (size_t)B * H;
}

static float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

void lstm_forward(float *out, float *cache, const float *inp, const float *wih, const float *whh,
                  const float *bias, int B, int T, int C, int H)
{
    // inp is (B,T,C), wih is (4H,C), whh is (4H,H), bias is (4H), out is (B,T,H);
    // cache = [gates (B,T,4H) after their activations | cells (B,T,H)]
    int G = 4 * H;
    float *gates = cache, *cells = cache + (size_t)B * T * G;
    for (size_t r = 0; r < (size_t)B * T; r++)
        memcpy(gates + r * G, bias, sizeof(float) * (size_t)G);
    // every step's input projection at once: gates (B*T,4H) += inp (B*T,C) wih^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * T, G, C, 1.0f, inp, C, wih, C, 1.0f,
                gates, G);
    for (int t = 0; t < T; t++) {
        float *gt = gates + (size_t)t * G; /* row b at gt + b*T*G */
        // recurrence: gates[:,t] (B,4H) += h[:,t-1] (B,H) whh^T (strided rows)
        if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, H, 1.0f,
                        out + (size_t)(t - 1) * H, T * H, whh, H, 1.0f, gt, T * G);
        for (int b = 0; b < B; b++) {
            size_t bt = (size_t)b * T + t;
            float *g = gates + bt * G, *c = cells + bt * H, *h = out + bt * H;
            const float *cprev = t > 0 ? c - H : NULL;
            for (int k = 0; k < H; k++) {
                float ig = sigmoidf(g[k]), fg = sigmoidf(g[H + k]);
                float gg = tanhf(g[2 * H + k]), og = sigmoidf(g[3 * H + k]);
                g[k] = ig, g[H + k] = fg, g[2 * H + k] = gg, g[3 * H + k] = og;
                c[k] = (cprev ? fg * cprev[k] : 0.0f) + ig * gg;
                h[k] = og * tanhf(c[k]);
            }
        }
    }
}

void lstm_backward(float *dinp, float *dwih, float *dwhh, float *dbias, float *scratch,
                   const float *dout, const float *inp, const float *out, const float *cache,
                   const float *wih, const float *whh, int B, int T, int C, int H)
{
    // dout (B,T,H) is dL/dh_t from above (the layer's output at every step);
    // inp, out and cache are the forward's. dinp (B,T,C) is written (NULL:
    // skipped); dwih (4H,C), dwhh (4H,H) and dbias (4H) are accumulated.
    // scratch (lstm_scratch_size) = [dpre (B,T,4H) | dh_next (B,H) | dc_next (B,H)]
    int G = 4 * H;
    const float *gates = cache, *cells = cache + (size_t)B * T * G;
    float *dpre = scratch, *dh_next = scratch + (size_t)B * T * G, *dc_next = dh_next + (size_t)B * H;
    memset(dh_next, 0, sizeof(float) * 2 * (size_t)B * H);
    for (int t = T - 1; t >= 0; t--) {
        for (int b = 0; b < B; b++) {
            size_t bt = (size_t)b * T + t;
            const float *g = gates + bt * G, *c = cells + bt * H, *dh_out = dout + bt * H;
            const float *cprev = t > 0 ? c - H : NULL;
            float *dp = dpre + bt * G, *dhn = dh_next + (size_t)b * H, *dcn = dc_next + (size_t)b * H;
            for (int k = 0; k < H; k++) {
                float ig = g[k], fg = g[H + k], gg = g[2 * H + k], og = g[3 * H + k];
                float dh = dh_out[k] + dhn[k];
                float tc = tanhf(c[k]);
                float dc = dcn[k] + dh * og * (1.0f - tc * tc);
                dp[k] = dc * gg * ig * (1.0f - ig);
                dp[H + k] = cprev ? dc * cprev[k] * fg * (1.0f - fg) : 0.0f;
                dp[2 * H + k] = dc * ig * (1.0f - gg * gg);
                dp[3 * H + k] = dh * tc * og * (1.0f - og);
                dcn[k] = dc * fg;
            }
        }
        if (t == 0)
            break;
        // through the recurrence: dh_next (B,H) = dpre[:,t] (B,4H) whh;
        // dwhh (4H,H) += dpre[:,t]^T h[:,t-1]
        const float *dpt = dpre + (size_t)t * G, *hprev = out + (size_t)(t - 1) * H;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G, 1.0f, dpt, T * G, whh, H,
                    0.0f, dh_next, H);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, B, 1.0f, dpt, T * G, hprev, T * H,
                    1.0f, dwhh, H);
    }
    // the input projection, all steps at once: dwih (4H,C) += dpre^T inp,
    // dinp (B*T,C) = dpre wih, dbias += column sums of dpre
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, C, B * T, 1.0f, dpre, G, inp, C, 1.0f,
                dwih, C);
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B * T, C, G, 1.0f, dpre, G, wih, C,
                    0.0f, dinp, C);
    for (size_t r = 0; r < (size_t)B * T; r++)
        for (int k = 0; k < G; k++)
            dbias[k] += dpre[r * G + k];
}
