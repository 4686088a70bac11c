/* layers_loss.c: losses at the end of a model (softmax cross-entropy, MSE).
 *
 * Forward returns the batch loss; backward writes the gradient w.r.t. the
 * model output. Sums run in double so a loss over a large batch stays exact
 * to float precision.
 */
#include <math.h>

#include "models/layers.h"

float crossentropy_forward(float *losses, float *probs, const float *logits, const int *labels,
                           int B, int V)
{
    // logits and probs are (B,V), labels and losses are (B)
    // softmax shifted by the row max so exp never overflows
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * V;
        float *p = probs + (size_t)b * V;
        float zmax = z[0];
        for (int v = 1; v < V; v++)
            if (z[v] > zmax)
                zmax = z[v];
        double sum = 0.0;
        for (int v = 0; v < V; v++) {
            p[v] = expf(z[v] - zmax);
            sum += p[v];
        }
        float inv = (float)(1.0 / sum);
        for (int v = 0; v < V; v++)
            p[v] *= inv;
        // -log softmax computed from the logits, not log(p): exact for tiny p
        double loss = -((double)z[labels[b]] - zmax - log(sum));
        if (losses)
            losses[b] = (float)loss;
        total += loss;
    }
    return B > 0 ? (float)(total / B) : 0.0f;
}

void crossentropy_backward(float *dlogits, const float *probs, const int *labels, int B, int V,
                           float scale)
{
    // probs and dlogits are (B,V), labels is (B)
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * V;
        float *d = dlogits + (size_t)b * V;
        for (int v = 0; v < V; v++)
            d[v] = scale * p[v];
        d[labels[b]] -= scale;
    }
}

float mse_forward(const float *out, const float *target, size_t N)
{
    // out and target are (N)
    double total = 0.0;
    for (size_t i = 0; i < N; i++) {
        double e = (double)out[i] - target[i];
        total += e * e;
    }
    return N > 0 ? (float)(total / (double)N) : 0.0f;
}

void mse_backward(float *dout, const float *out, const float *target, size_t N, float scale)
{
    // out, target and dout are (N)
    for (size_t i = 0; i < N; i++)
        dout[i] = scale * 2.0f * (out[i] - target[i]);
}
