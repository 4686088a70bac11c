/* pipeline_stages.h: a model cut into P stages of consecutive layers, each
 * stage its own model (models/model.h) built from its slice of the spec,
 * and one iteration's real forward and backward passes through them, one
 * micro-batch after another (private to workloads/; the pipeline workload's
 * computation, pipeline.c its time).
 *
 * The stages' parameters, concatenated in stage order, are the full model's
 * parameter vector (layers keep their order and layout), so the workload
 * keeps one optimiser on the full model and copies slices in and out.
 *
 * FLOPs: each layer's forward FLOPs per example are the model's count
 * (dense, conv, lstm; a multiply-add is 2), and one per element for the
 * element-wise and pooling layers (their input size), so that no layer is
 * free when the layers are balanced across stages.
 */
#ifndef STRAG_PIPELINE_STAGES_H
#define STRAG_PIPELINE_STAGES_H

#include <stddef.h>

#include "base/error.h"
#include "models/model.h"

enum { PIPELINE_LAYERS_MAX = 64 };

/* The full model's layers as spec words, with their FLOPs and parameters. */
struct pipeline_layers {
    char input[64];                        /* the input shape text ("1x28x28") */
    int count;
    char words[PIPELINE_LAYERS_MAX][64];   /* "conv6k5p2", "relu", ... */
    double flops[PIPELINE_LAYERS_MAX];     /* forward FLOPs per example */
    size_t params[PIPELINE_LAYERS_MAX];    /* parameters of the layer */
    double total_flops;
};

/* Reads the layers of a built model (its canonical spec). Errors: no memory. */
int pipeline_layers_read(const struct model *full, struct pipeline_layers *l, struct error *err);

/* first[0..P]: stage s holds layers first[s] .. first[s+1]-1. */

/* The split written as stage specs separated by '|' (each a list of layer
 * words); *P gets the number of stages. Errors (no location; the caller
 * adds the key's): a stage that does not parse or is empty, more than
 * `max_stages` stages, stages that do not cover the model's layers exactly
 * once, in order. */
int pipeline_split_parse(const struct pipeline_layers *l, const char *text, int max_stages,
                         int *first, int *P, struct error *err);

/* The contiguous split into P non-empty stages that minimises the largest
 * stage time, stage s's time being slowness[s] (NULL: all 1) times its
 * FLOPs; ties go to the smaller sum of squared stage times. P <= l->count. */
void pipeline_split_balanced(const struct pipeline_layers *l, int P, const double *slowness,
                             int *first);

struct pipeline_stages {
    int count;               /* P */
    int first[PIPELINE_LAYERS_MAX + 1];
    struct model *models[PIPELINE_LAYERS_MAX];
    size_t offset[PIPELINE_LAYERS_MAX + 1]; /* stage s's slice of the full parameters */
    double flops[PIPELINE_LAYERS_MAX];      /* forward FLOPs per example */
    int input_floats[PIPELINE_LAYERS_MAX];  /* floats per example into stage s */
    int max_batch, classes;
    float *probs, *dlogits, *grad_in, *grad_out; /* scratch for one micro-batch */
};

/* Builds the stage models of split `first` (P stages) for micro-batches of
 * up to max_batch examples, their parameters copied from full->params.
 * On failure what was built is in s: pipeline_stages_free() it either way. */
int pipeline_stages_build(struct pipeline_stages *s, const struct pipeline_layers *l,
                          const struct model *full, const int *first, int P, int max_batch,
                          struct error *err);
void pipeline_stages_free(struct pipeline_stages *s);

/* Copies full parameters (nparams of the full model) into the stages. */
void pipeline_stages_load(struct pipeline_stages *s, const float *params);

/* One iteration's gradient: the B examples x (B, input), labels y cut into
 * M micro-batches (sizes B*(m+1)/M - B*m/M), each forwarded through the
 * stages in order (dropout active) and back, the gradients accumulated so
 * that full_grads (the full model's layout) receives the gradient of the
 * mean loss over the B examples; *loss gets that mean loss. Dropout masks
 * come from *dropout_rng (NULL: each stage model's own), micro-batch after
 * micro-batch: with one dropout layer the masks one worker draws for the
 * whole batch. */
int pipeline_stages_gradient(struct pipeline_stages *s, const float *x, const int *y, int B,
                             int M, struct rng *dropout_rng, float *full_grads, double *loss,
                             struct error *err);

/* Sets every stage's dropout layers to `rate` (the tuner's setting). */
void pipeline_stages_set_dropout(struct pipeline_stages *s, float rate);

/* Micro-batch m's examples: [start, start + size). */
static inline int pipeline_micro_start(int B, int M, int m) { return (int)((long)B * m / M); }
static inline int pipeline_micro_size(int B, int M, int m)
{
    return pipeline_micro_start(B, M, m + 1) - pipeline_micro_start(B, M, m);
}

#endif
