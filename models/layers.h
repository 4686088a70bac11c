/* layers.h: the neural-network layers, each a forward/backward pair.
 *
 * Everything is float32 and row-major; images are (B,C,H,W) (NCHW, the
 * PyTorch layout, so weights line up with torchvision-style tensors). Each
 * function says the shapes of its arguments in its comment. The conventions,
 * after llm.c:
 *   - forward writes `out` (never reads it);
 *   - backward WRITES the input gradient `dinp` (overwrites; pass NULL to skip
 *     it, e.g. for a first layer) and ACCUMULATES (+=) into parameter
 *     gradients (`dweight`, `dbias`), so gradients of several batches or
 *     workers can be summed before an optimiser step;
 *   - no function allocates: scratch (im2col columns, the LSTM's cache) is
 *     passed in, sized by conv2d_col_size and lstm_cache/scratch_size.
 * Dense, lstm and conv2d's backward (and its im2col forward) run on
 * cblas_sgemm; conv2d's direct forward runs on the calling thread. The number of threads is
 * whatever the caller gave OpenBLAS (openblas_set_num_threads). Nothing here spawns
 * threads of its own. Flatten has no function: in row-major order (B,C,H,W)
 * already is (B,C*H*W), so the model treats it as a view.
 *
 * This file knows nothing about models, optimisers or data sets.
 */
#ifndef STRAG_LAYERS_H
#define STRAG_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/rng.h"

/* ---- dense (fully connected): out = inp weight^T + bias ---- */

// inp is (B,C), weight is (OC,C), bias is (OC) or NULL, out is (B,OC)
void dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                   int B, int C, int OC);
// dout is (B,OC); dinp (B,C) is written (NULL: skipped); dweight (OC,C) and
// dbias (OC, or NULL) are accumulated
void dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                    const float *inp, const float *weight, int B, int C, int OC);

/* ---- conv2d: square kernels, equal stride and zero padding on both axes ---- */

/* How conv2d_forward computes: im2col + cblas_sgemm (the reference, and
 * the backward of every path), or direct kernels vectorised across images
 * (layers_conv_direct.c) in portable C, AVX2+FMA or AVX-512. The direct
 * paths give the same bits as each other; they differ from im2col at float
 * rounding. */
enum conv2d_path { CONV2D_IM2COL, CONV2D_PORTABLE, CONV2D_AVX2, CONV2D_AVX512 };

/* "im2col", "portable", "avx2", "avx512" */
const char *conv2d_path_name(enum conv2d_path path);
/* Those names and "auto" (conv2d_path_best); returns 0, or -1 if unknown. */
int conv2d_path_parse(const char *name, enum conv2d_path *out);
/* Whether this CPU runs the path (im2col and portable: always). */
bool conv2d_path_supported(enum conv2d_path path);
/* The widest direct path this CPU runs. */
enum conv2d_path conv2d_path_best(void);
/* The path conv2d_dims_make gives new layers: conv2d_path_best unless set
 * (the app sets it from STRAGSIM_CONV before building models). */
enum conv2d_path conv2d_path_default(void);
void conv2d_path_set_default(enum conv2d_path path);

struct conv2d_dims {
    int C, H, W;    /* input channels and size */
    int OC, K;      /* output channels, kernel size (K x K) */
    int stride, pad;
    int OH, OW;     /* output size: (H + 2 pad - K) / stride + 1 */
    /* column layout (set by conv2d_dims_make, used by layers_conv.c): each
     * output row is PITCH columns wide, PITCH >= OW; PC = OH * PITCH */
    int HP, WP;     /* padded input size (H + 2 pad, W + 2 pad) */
    int PITCH, PC;
    enum conv2d_path path; /* conv2d_path_default() when made; callers may change it */
};

/* A fused epilogue of the direct paths: out = relu?(maxpool(conv + bias)).
 * pool_k = 0: no pool; else a pool_k x pool_k max pool with stride pool_s. */
struct conv2d_epilogue {
    int pool_k, pool_s;
    bool relu;
};

/* Fills d (including OH, OW). Returns 0, or -1 if the kernel does not fit. */
int conv2d_dims_make(struct conv2d_dims *d, int C, int H, int W, int OC, int K, int stride, int pad);

/* Whether conv2d_forward runs a direct path (and conv2d_forward_fused may be used). */
bool conv2d_is_direct(const struct conv2d_dims *d);

/* Floats of scratch that conv2d_forward/backward need for a batch of B
 * (the same for both; nothing in it survives a call, so one buffer can serve
 * every conv layer of a model). */
size_t conv2d_col_size(const struct conv2d_dims *d, int B);

// inp is (B,C,H,W), weight is (OC,C,K,K), bias is (OC) or NULL,
// out is (B,OC,OH,OW); col is scratch of conv2d_col_size(d, B) floats.
void conv2d_forward(float *out, float *col, const float *inp, const float *weight,
                    const float *bias, const struct conv2d_dims *d, int B);
// a direct path only: inp is (B,C,H,W), out is (B,OC,PH,PW) =
// relu?(maxpool(conv(inp) + bias)) with the epilogue ep (NULL: none, out is
// (B,OC,OH,OW)); the same bits as conv2d_forward, maxpool_forward and
// relu_forward one after the other. scratch as for conv2d_forward.
void conv2d_forward_fused(float *out, float *scratch, const float *inp, const float *weight,
                          const float *bias, const struct conv2d_dims *d, int B,
                          const struct conv2d_epilogue *ep);
/* Floats of scratch the direct paths need (any B; part of conv2d_col_size). */
size_t conv2d_direct_scratch_size(const struct conv2d_dims *d);
// dout is (B,OC,OH,OW), inp is the forward's input (B,C,H,W); dinp (B,C,H,W)
// is written (NULL: skipped); dweight (OC,C,K,K) and dbias (OC, or NULL) are
// accumulated. col is scratch of conv2d_col_size(d, B) floats.
void conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                     const float *inp, const float *weight, float *col,
                     const struct conv2d_dims *d, int B);

/* ---- pooling: K x K windows with stride S, no padding ---- */

/* Output size of a pool over n pixels: (n - K) / S + 1. */
int pool_out_size(int n, int K, int S);

// inp is (B,C,H,W), out is (B,C,OH,OW): the max of each window
void maxpool_forward(float *out, const float *inp, int B, int C, int H, int W, int K, int S);
// dout and out are (B,C,OH,OW), inp is (B,C,H,W): the forward's input and
// output. dinp (B,C,H,W) is written: each window's gradient goes to the
// first element (row-major) equal to the window's max. Recomputing the argmax
// here keeps forward a pure, vectorisable max (inference never pays for it).
void maxpool_backward(float *dinp, const float *dout, const float *inp, const float *out, int B,
                      int C, int H, int W, int K, int S);
// inp is (B,C,H,W), out is (B,C,OH,OW): the mean of each window
void avgpool_forward(float *out, const float *inp, int B, int C, int H, int W, int K, int S);
// dout is (B,C,OH,OW); dinp (B,C,H,W) is written
void avgpool_backward(float *dinp, const float *dout, int B, int C, int H, int W, int K, int S);

/* ---- LSTM: one recurrent layer over a sequence, zero initial state ----
 * Gates i, f, g, o (PyTorch's order and rules); see layers_lstm.c. The
 * forward keeps what backward needs in `cache` (activated gates and cells)
 * and backward runs back through time with `scratch`; size both with the
 * functions below. */

/* Floats of cache (forward to backward) and of backward scratch. */
size_t lstm_cache_size(int B, int T, int H);
size_t lstm_scratch_size(int B, int T, int H);

// inp is (B,T,C), wih is (4H,C), whh is (4H,H), bias is (4H), out is the
// hidden state of every step (B,T,H); cache is lstm_cache_size(B,T,H) floats.
void lstm_forward(float *out, float *cache, const float *inp, const float *wih, const float *whh,
                  const float *bias, int B, int T, int C, int H);
// dout (B,T,H) is the gradient w.r.t. every step's hidden state; inp, out and
// cache are the forward's. dinp (B,T,C) is written (NULL: skipped); dwih
// (4H,C), dwhh (4H,H) and dbias (4H) are accumulated. scratch is
// lstm_scratch_size(B,T,H) floats.
void lstm_backward(float *dinp, float *dwih, float *dwhh, float *dbias, float *scratch,
                   const float *dout, const float *inp, const float *out, const float *cache,
                   const float *wih, const float *whh, int B, int T, int C, int H);

/* ---- element-wise activations over N floats (any shape) ----
 * Forward may run in place (out == inp). ReLU and tanh backward need only
 * the forward OUTPUT, so an in-place forward loses nothing; square needs
 * the input. Backward may run in place too (dinp == dout). */

void relu_forward(float *out, const float *inp, size_t N);
void relu_backward(float *dinp, const float *dout, const float *out, size_t N);
void tanh_forward(float *out, const float *inp, size_t N);
void tanh_backward(float *dinp, const float *dout, const float *out, size_t N);
/* x^2: an exact polynomial activation (Lagrange coded computing needs one) */
void square_forward(float *out, const float *inp, size_t N);
void square_backward(float *dinp, const float *dout, const float *inp, size_t N);

/* ---- inverted dropout over N floats (any shape) ----
 * Training only (evaluation is the identity): each value is zeroed with
 * probability p (drawn from r, one uniform per value; p = 0 draws nothing)
 * and the rest scaled by 1/(1-p). mask (N) receives each value's factor;
 * backward multiplies by it and may run in place (dinp == dout). */

void dropout_forward(float *out, float *mask, const float *inp, size_t N, float p, struct rng *r);
void dropout_backward(float *dinp, const float *dout, const float *mask, size_t N);

/* ---- softmax cross-entropy (the loss of every classifier here) ---- */

// logits is (B,V), labels (B) in [0,V); probs (B,V) receives the softmax and
// losses (B, or NULL) the per-example loss -log p[label]. Returns the mean
// loss over the batch (accumulated in double).
float crossentropy_forward(float *losses, float *probs, const float *logits, const int *labels,
                           int B, int V);
// gradient of (scale * sum of losses) w.r.t. the logits: dlogits (B,V) is
// written with scale * (probs - onehot(labels)); scale = 1/B for the mean loss
void crossentropy_backward(float *dlogits, const float *probs, const int *labels, int B, int V,
                           float scale);

/* ---- mean squared error (regression targets: parity models, decoders) ---- */

// out and target are (N); returns sum((out - target)^2) / N
float mse_forward(const float *out, const float *target, size_t N);
// dout (N) is written with scale * 2 (out - target); scale = 1/N for the mean
void mse_backward(float *dout, const float *out, const float *target, size_t N, float scale);

#endif
