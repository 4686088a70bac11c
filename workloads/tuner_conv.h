/* tuner_conv.h: the convolutional front end of the lstm tuner with
 * workload.tuner.lstm_input = per_worker (private to workloads/; tuner.c
 * uses it): the ConvLSTM reading of Ravikumar et al. 2024, a 1-D
 * convolution over each worker's (pipeline: each stage's) time series,
 * feeding the LSTM that reads the window summaries.
 *
 * Input: a series z of S window steps x W workers, z[k * W + w] the log of
 * worker w's mean task time per unit cost in window k over the median
 * worker's (0 where a worker ran nothing). For a sequence of T steps ending
 * at step `last` (step k(t) = last - (T - 1 - t), earlier steps clamped to
 * step 0), channel c at time t is
 *
 *     F[c][t] = max over w of tanh(b[c] + sum_j wt[c][j] z[k(t) - j][w])
 *
 * for j = 0 .. K - 1 (causal, steps before 0 read step 0): the same filter
 * slides along every worker's series, and the max over workers keeps the
 * slowest pattern whichever worker shows it. F (C x T) is appended to the
 * LSTM's per-step input, and the gradient the LSTM hands back for it comes
 * here (tuner_conv_backward), so the filter is trained online with the
 * LSTM by the same loss.
 */
#ifndef STRAG_TUNER_CONV_H
#define STRAG_TUNER_CONV_H

#include <stddef.h>

#include "base/rng.h"

struct tuner_conv {
    int channels, kernel, workers; /* C, K, W */
    size_t nparams;                /* C K + C: wt (C x K), then b (C) */
    float *params, *grads;
};

/* Allocates a front end, weights ~ U(-1/sqrt(K), 1/sqrt(K)) from r, biases
 * 0. Returns -1 on no memory. */
int tuner_conv_init(struct tuner_conv *cv, int channels, int kernel, int workers, struct rng *r);
void tuner_conv_free(struct tuner_conv *cv);

/* F (C x T, F[c * T + t]) of the sequence of T steps ending at `last` of
 * the series z (workers floats per step). */
void tuner_conv_forward(const struct tuner_conv *cv, const float *z, size_t last, int T,
                        float *F);

/* Adds to cv->grads the gradient of a loss whose gradient with respect to
 * F of that sequence is dF (C x T). */
void tuner_conv_backward(struct tuner_conv *cv, const float *z, size_t last, int T,
                         const float *dF);

#endif
