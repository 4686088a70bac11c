/* optim.h: optimisers over one flat parameter vector.
 *
 * A model keeps all its weights in one contiguous float array and its
 * gradients in another of the same layout, so an optimiser is just an update
 * rule over n floats plus its state (momentum, Adam moments). The rules are
 * PyTorch's, so a run can be compared with torch.optim step for step:
 *   SGD:  g = grad + wd p;  v = momentum v + g;  p -= lr v   (v = g at step 1)
 *   Adam: g = grad + wd p (L2, torch.optim.Adam); or, with decoupled = true,
 *         p -= lr wd p first and g = grad (torch.optim.AdamW);
 *         m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *         p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * The optimiser does not zero the gradients: the caller does (model_zero_grad)
 * because backward accumulates.
 */
#ifndef STRAG_OPTIM_H
#define STRAG_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

enum optim_kind { OPTIM_SGD, OPTIM_ADAM };

struct optim_config {
    enum optim_kind kind;
    float lr;
    float momentum;     /* SGD; 0 = plain SGD */
    float beta1, beta2; /* Adam (0.9, 0.999 by optim_config_default) */
    float eps;          /* Adam (1e-8) */
    float weight_decay; /* both; 0 = none */
    bool decoupled;     /* Adam: AdamW-style decay instead of L2 */
};

/* Defaults for a kind: PyTorch's (lr 0.01 for SGD, 0.001 for Adam). */
struct optim_config optim_config_default(enum optim_kind kind);

/* Parses "sgd" or "adam" into *kind; returns 0, or -1 for anything else. */
int optim_kind_parse(const char *name, enum optim_kind *kind);

struct optim;

/* An optimiser for n parameters; state starts at zero (step 0). */
int optim_new(struct optim **out, const struct optim_config *cfg, size_t n, struct error *err);
void optim_free(struct optim *o);

/* One update of params (n) from grads (n). */
void optim_step(struct optim *o, float *params, const float *grads);

/* Back to step 0 with zero state (same config). */
void optim_reset(struct optim *o);

/* Changes the learning rate (schedules); the state is kept. */
void optim_set_lr(struct optim *o, float lr);

/* Changes the weight decay (a tuner); the state is kept. */
void optim_set_weight_decay(struct optim *o, float weight_decay);

/* Steps taken since creation or the last reset. */
long optim_steps(const struct optim *o);

#endif
