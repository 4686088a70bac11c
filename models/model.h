/* model.h: a model is a stack of layers over one flat parameter vector.
 *
 * A model is built from a spec: an input shape and a list of layer
 * descriptors. The named models are specs in a table:
 *   logreg  "784: dense10"
 *   mlp     "784: dense200 relu dense100 relu dense10"
 *   lenet5  "1x28x28: conv6k5p2 relu maxpool2 conv16k5 relu maxpool2
 *            dense120 relu dense84 relu dense10"      (ReLU + max pooling)
 * and any other stack can be built from spec text with the same grammar
 * (a square-activation polynomial net for Lagrange coding, a small CNN on an
 * image patch, a decoder MLP over concatenated logits):
 *   spec   := input ":" layer (" " layer)*
 *   input  := N | CxHxW                  (N means N x 1 x 1)
 *   layer  := "dense"N | "conv"N"k"K["s"S]["p"P] | "maxpool"K["s"S]
 *           | "avgpool"K["s"S] | "relu" | "tanh" | "square" | "flatten"
           | "lstm"N | "dropout"P
 * (conv stride defaults to 1 and padding to 0; pool stride defaults to K;
 * dense flattens a (C,H,W) input by itself, "flatten" only names the step).
 * "lstmN" reads a (C,1,T) activation as a sequence of T steps of C features
 * (PyTorch's Conv1d layout (B,C,L), so a temporal conv can feed it) and
 * outputs its last hidden state (N,1,1): "1x1x8: lstm16 dense1" reads a
 * window of 8 scalars and regresses the next one. "dropoutP" (P in [0, 1),
 * e.g. dropout0.5) is inverted dropout: active in model_loss_and_grad only,
 * drawing its masks from m->dropout_rng; every other pass (model_forward,
 * model_evaluate) passes its input through.
 *
 * All weights live in one contiguous array `params` and all gradients in
 * `grads` with the same layout, so optimisers and the weights file treat them
 * as one vector; `tensors` names the pieces ("conv1.weight", (6,1,5,5)) in
 * PyTorch's layout (dense weight (OC,C), conv weight (OC,C,K,K), lstm
 * weight_ih (4H,C), weight_hh (4H,H) and one bias (4H) = b_ih + b_hh).
 *
 * Forward and backward use per-layer workspaces sized for the largest batch
 * seen so far (or reserved with model_reserve): once a batch size has been
 * run, later batches up to that size allocate nothing. The caller sets the
 * OpenBLAS thread count; the model runs on the calling thread otherwise.
 *
 * This file does not load data, read or write weight files, or train: see
 * the optimisers in optim.h and the training loop built on top.
 */
#ifndef STRAG_MODEL_H
#define STRAG_MODEL_H

#include <stddef.h>

#include "base/error.h"
#include "base/rng.h"

enum layer_kind {
    LAYER_DENSE,
    LAYER_CONV2D,
    LAYER_MAXPOOL,
    LAYER_AVGPOOL,
    LAYER_RELU,
    LAYER_TANH,
    LAYER_SQUARE,
    LAYER_FLATTEN,
    LAYER_LSTM,
    LAYER_DROPOUT,
};

/* One layer of a spec. Unused fields are 0. */
struct layer_spec {
    enum layer_kind kind;
    int units;  /* dense: output features; conv2d: output channels; lstm: hidden size */
    int kernel; /* conv2d, pools: K of a K x K window */
    int stride; /* conv2d (0 = 1), pools (0 = kernel) */
    int pad;    /* conv2d: zero padding on each side */
    float rate; /* dropout: probability of zeroing a value, [0, 1) */
};

/* Per-example activation shape (C,H,W); a flat vector of n is (n,1,1). */
struct act_shape {
    int c, h, w;
};

/* A named parameter tensor: params[offset .. offset+count) with dims. */
struct model_tensor {
    char name[32];      /* "conv1.weight", "dense3.bias" */
    int ndim;
    int dims[4];
    size_t offset;
    size_t count;
};

struct model_layer;     /* private: one built layer */
struct model_workspace; /* private: activations and scratch */

/* Fields are read-only to callers except params (weights) and grads. */
struct model {
    char name[32];         /* table name ("lenet5") or "custom" */
    char *arch;            /* canonical spec text: rebuilds this model */
    struct act_shape input;
    int input_size;        /* c*h*w floats per example */
    int outputs;           /* floats per example out of forward (logits) */
    size_t nparams;
    float *params;         /* (nparams) */
    float *grads;          /* (nparams), accumulated by backward */
    int ntensors;
    struct model_tensor *tensors;
    double flops;          /* forward FLOPs per example (a multiply-add is 2) */
    int nlayers;
    struct model_layer *layers;
    struct model_workspace *ws;
    struct rng dropout_rng; /* dropout masks (seed it: rng_seed(..., RNG_DROPOUT, ...)) */
};

/* Builds a model by table name ("logreg", "mlp", "lenet5") or from spec text
 * (anything containing ':'). Parameters start at zero: call model_init.
 * Errors (no location, the caller adds one): "unknown model 'x' (known:
 * logreg, mlp, lenet5)", "model spec '...': <what is wrong>". */
int model_new(struct model **out, const char *name_or_spec, struct error *err);

/* Builds a model from an input shape and a list of layers. `name` may be
 * NULL ("custom"). */
int model_new_layers(struct model **out, const char *name, struct act_shape input,
                     const struct layer_spec *layers, int nlayers, struct error *err);

void model_free(struct model *m);

/* Like model_new with a dropout rate for the training workloads' override:
 * every dropout layer of the spec gets `rate`; a spec without one gets one
 * inserted before its last dense layer (the classifier), e.g. mlp becomes
 * "784: dense200 relu dense100 relu dropoutR dense10". At rate 0 the layer
 * is the identity and draws nothing: the same bits as the model without it. */
int model_new_dropout(struct model **out, const char *name_or_spec, float rate,
                      struct error *err);

/* Sets the rate of every dropout layer (rate in [0, 1)); returns how many
 * the model has. */
int model_set_dropout(struct model *m, float rate);

/* The spec text of a table model, or NULL if `name` is not in the table. */
const char *model_builtin_spec(const char *name);

/* The table names, NULL-terminated ("logreg", "mlp", "lenet5", NULL). */
const char *const *model_builtin_names(void);

/* He (Kaiming) uniform initialisation: each weight ~ U(-b, b) with
 * b = sqrt(6 / fan_in), biases 0; lstm weights ~ U(-1/sqrt(H), 1/sqrt(H))
 * (PyTorch's) with bias 1 on the forget gate and 0 elsewhere. Draws from r in tensor order; seed r with
 * rng_seed(..., RNG_INIT, ...). */
void model_init(struct model *m, struct rng *r);

/* Sizes the workspaces (forward and backward) for batches up to max_batch. */
int model_reserve(struct model *m, int max_batch, struct error *err);

/* Forward pass of B examples: inp is (B, input_size); on success *logits
 * points to (B, outputs) floats inside the model, valid until the next
 * forward. Grows the workspaces if B is larger than any batch before. */
int model_forward(struct model *m, const float *inp, int B, const float **logits,
                  struct error *err);

/* Like model_forward with dropout active, drawing its masks from
 * m->dropout_rng: the forward of a training pass whose loss the caller
 * computes (a pipeline stage); model_backward follows it as usual. */
int model_forward_train(struct model *m, const float *inp, int B, const float **logits,
                        struct error *err);
/* Like model_forward, for inference only: a conv layer on a direct path
 * (layers.h) runs a max pool and/or ReLU that follows it in the same pass
 * (the same bits as model_forward), so the activations between them are not
 * kept and model_backward fails until the next model_forward. */
int model_infer(struct model *m, const float *inp, int B, const float **logits,
                struct error *err);

/* Backward pass after model_forward on the same inp and B: dlogits is
 * (B, outputs). Accumulates (+=) into m->grads. dinp (B, input_size) receives
 * the gradient w.r.t. the input, or pass NULL to skip it. The input given to
 * forward must still be unchanged. */
int model_backward(struct model *m, const float *dlogits, int B, float *dinp,
                   struct error *err);

/* Forward, mean softmax cross-entropy over the batch, and backward: adds the
 * gradient of the mean loss to m->grads (call model_zero_grad first for a
 * fresh gradient). labels (B) in [0, outputs). *loss gets the mean loss;
 * `correct` (may be NULL) gets the number of argmax hits. */
int model_loss_and_grad(struct model *m, const float *inp, const int *labels, int B,
                        float *loss, int *correct, struct error *err);

/* model_infer and cross-entropy only (evaluation): *loss_sum gets the SUM of the
 * per-example losses, *correct the number of argmax hits (either may be NULL). */
int model_evaluate(struct model *m, const float *inp, const int *labels, int B,
                   double *loss_sum, int *correct, struct error *err);

void model_zero_grad(struct model *m);

/* Per-example shape of the model's output (its last layer's), e.g. (16,5,5)
 * after LeNet5's second pooling: the input shape of a model that continues
 * this one (a pipeline's next stage). */
struct act_shape model_output_shape(const struct model *m);

/* Index of the largest of n floats (the first on ties). */
int model_argmax(const float *x, int n);

/* Largest batch the workspaces hold now, and how many times they have been
 * (re)allocated: the no-allocation-per-batch property is checked with these. */
int model_capacity(const struct model *m);
long model_workspace_allocations(const struct model *m);

#endif
