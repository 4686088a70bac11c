/* layers_dropout.c: inverted dropout (Srivastava et al., JMLR 2014).
 *
 * Training: each value is kept with probability 1 - p and scaled by
 * 1 / (1 - p), so the expected output is the input and evaluation needs no
 * rescaling (evaluation does not call these: the model passes the input
 * through). The mask holds the factor each value was multiplied by (0 or
 * 1 / (1 - p)); backward multiplies by the same mask.
 */
#include "models/layers.h"

void dropout_forward(float *out, float *mask, const float *inp, size_t N, float p, struct rng *r)
{
    // inp, out and mask are (N); p = 0 keeps everything and draws nothing
    if (p <= 0.0f) {
        for (size_t i = 0; i < N; i++) {
            mask[i] = 1.0f;
            out[i] = inp[i];
        }
        return;
    }
    const float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < N; i++) {
        mask[i] = rng_uniform(r) < (double)p ? 0.0f : keep;
        out[i] = inp[i] * mask[i];
    }
}

void dropout_backward(float *dinp, const float *dout, const float *mask, size_t N)
{
    // dout, mask and dinp are (N); dinp may be dout
    for (size_t i = 0; i < N; i++)
        dinp[i] = dout[i] * mask[i];
}
