/* tuner_conv.c: the 1-D convolution over per-worker time series in front
 * of the lstm tuner (tuner_conv.h). */
#include "workloads/tuner_conv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tuner_conv_init(struct tuner_conv *cv, int channels, int kernel, int workers, struct rng *r)
{
    memset(cv, 0, sizeof *cv);
    cv->channels = channels;
    cv->kernel = kernel;
    cv->workers = workers;
    cv->nparams = (size_t)channels * (size_t)kernel + (size_t)channels;
    cv->params = calloc(cv->nparams, sizeof *cv->params);
    cv->grads = calloc(cv->nparams, sizeof *cv->grads);
    if (!cv->params || !cv->grads)
        return -1;
    double bound = 1.0 / sqrt((double)kernel);
    for (size_t i = 0; i < (size_t)channels * (size_t)kernel; i++)
        cv->params[i] = (float)(bound * (2.0 * rng_uniform(r) - 1.0));
    return 0;
}

void tuner_conv_free(struct tuner_conv *cv)
{
    free(cv->params);
    free(cv->grads);
    memset(cv, 0, sizeof *cv);
}

/* The pre-activation of channel c, worker w, at the sequence's time t. */
static double conv_at(const struct tuner_conv *cv, const float *z, size_t last, int T, int c,
                      int w, int t)
{
    long k = (long)last - (T - 1 - t);
    double a = cv->params[(size_t)cv->channels * cv->kernel + c];
    for (int j = 0; j < cv->kernel; j++) {
        long at = k - j < 0 ? 0 : k - j;
        a += (double)cv->params[(size_t)c * cv->kernel + j] * z[(size_t)at * cv->workers + w];
    }
    return a;
}

/* The worker of the largest activation (the first on ties) and its tanh. */
static int conv_max(const struct tuner_conv *cv, const float *z, size_t last, int T, int c, int t,
                    double *h)
{
    int best = 0;
    *h = -INFINITY;
    for (int w = 0; w < cv->workers; w++) {
        double v = tanh(conv_at(cv, z, last, T, c, w, t));
        if (v > *h) {
            *h = v;
            best = w;
        }
    }
    return best;
}

void tuner_conv_forward(const struct tuner_conv *cv, const float *z, size_t last, int T, float *F)
{
    for (int c = 0; c < cv->channels; c++)
        for (int t = 0; t < T; t++) {
            double h;
            conv_max(cv, z, last, T, c, t, &h);
            F[(size_t)c * T + t] = (float)h;
        }
}

void tuner_conv_backward(struct tuner_conv *cv, const float *z, size_t last, int T,
                         const float *dF)
{
    float *gb = cv->grads + (size_t)cv->channels * cv->kernel;
    for (int c = 0; c < cv->channels; c++)
        for (int t = 0; t < T; t++) {
            double h;
            int w = conv_max(cv, z, last, T, c, t, &h);
            double da = (double)dF[(size_t)c * T + t] * (1.0 - h * h); /* through max and tanh */
            long k = (long)last - (T - 1 - t);
            for (int j = 0; j < cv->kernel; j++) {
                long at = k - j < 0 ? 0 : k - j;
                cv->grads[(size_t)c * cv->kernel + j] +=
                    (float)(da * z[(size_t)at * cv->workers + w]);
            }
            gb[c] += (float)da;
        }
}
