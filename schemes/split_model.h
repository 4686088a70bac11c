/* split_model.h: the learning side of the split-image scheme with a learned
 * decoder (Krishna and Natarajan, "Distributed Inference With Straggler
 * Mitigation", 2019; doc/learned-codes.md).
 *
 * The 28x28 image is cut into N disjoint patches by an R x C grid of
 * equal tiles (R and C divide 28, R * C = N; split_tile): tiling `rows` is
 * N x 1 (horizontal strips), `cols` 1 x N (vertical strips), `grid` R x C
 * with R = scheme.grid_rows, and `auto` (the default) the squarest grid
 * with R >= C: N = 2 two 14x28 halves (top, bottom), N = 4 four 14x14
 * quadrants, N = 7 seven 4x28 strips, N = 14 a 7 x 2 grid of 4x14 tiles.
 * Patch i is the tile at grid row i / C, column i % C (row-major: N = 4 is
 * top left, top right, bottom left, bottom right). Node i runs its own
 * network on patch i (input shape 1 x h x w) and outputs a vector z_i of O
 * floats. The master's decoder network reads
 *   [m_1 z_1, ..., m_N z_N]            (N*O floats), or with mask_input
 *   [m_1 z_1, ..., m_N z_N, m_1..m_N]  (N*O + N floats)
 * where m_i = 1 if node i's output arrived and 0 for a straggler, and
 * outputs class scores. Nodes and decoder are trained jointly with softmax
 * cross-entropy over straggler scenarios: every mask with up to s erasures
 * (each training image is replicated over all of them; the node forward is
 * shared), or each node erased independently with probability p.
 * The averaging baseline: per-patch classifiers trained independently
 * (same node architecture, cross-entropy on their own patch), whose
 * available logits are averaged.
 *
 * Does not schedule tasks (schemes/split.c, sim/). split_train_command is
 * what `stragsim train` runs for train.target = split (scheme_split.train).
 */
#ifndef STRAG_SPLIT_MODEL_H
#define STRAG_SPLIT_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "models/fmnist.h"
#include "models/model.h"
#include "schemes/common/learned.h"
#include "base/error.h"

/* The finest tiling by rows: 28 strips one pixel high (an erasure mask is
 * an unsigned of 32 bits). */
enum { SPLIT_MAX_NODES = 28 };

#define SPLIT_DEFAULT_NODE "dense128 relu dense10"
#define SPLIT_DEFAULT_DECODER "dense64 relu dense10"

struct split_shape {
    int nodes;                 /* grid_rows * grid_cols */
    int grid_rows, grid_cols;  /* the tiling (split_tile) */
    const char *node_model;    /* spec text (the patch shape is prepended when it has no ':') */
    const char *decoder_model; /* spec text (its input size is prepended likewise) */
    bool mask_input;           /* the decoder also reads the arrival mask */
};

struct split_nets {
    int nodes;
    bool mask_input;
    int node_out;                          /* O: floats out of every node */
    int patch_h, patch_w;
    struct model *node[SPLIT_MAX_NODES];
    struct model *decoder;
    struct model *avg[SPLIT_MAX_NODES];    /* averaging baseline; NULL when not trained */
};

/* split_tile of scheme.patches = nodes under scheme.tiling and
 * scheme.grid_rows (absent: auto and none), the error at the key at fault. */
int split_tile_params(const struct params *p, int nodes, int *rows, int *cols,
                      struct error *err);

/* The tiling names of scheme.tiling, "auto|rows|cols|grid". */
extern const char split_tilings[];

/* The R x C grid of `nodes` patches under `tiling` ("auto", "rows", "cols"
 * or "grid" with R = grid_rows; grid_rows is read for "grid" only) into
 * *rows, *cols. STRAG_EINPUT without a location when it does not tile the
 * 28x28 image, e.g. "5 rows do not tile the 28x28 image (28 is not a
 * multiple of 5)"; *grid_at says whether the fault is grid_rows's. */
int split_tile(int nodes, const char *tiling, int grid_rows, int *rows, int *cols,
               bool *grid_at, struct error *err);

/* Copies patch i of `image` (784 floats) into patch (h*w floats, row-major). */
void split_patch(const struct split_nets *s, int i, const float *image, float *patch);

/* Builds the networks of `shape` initialised from `seed` (node i from
 * stream index 10+i, decoder 20, baseline node i 30+i; for i >= 7, node
 * 100+i and baseline 200+i, so no two networks share a stream), with baseline
 * classifiers when `baseline`. Every node must output the same size, and
 * baseline nodes must output FMNIST_CLASSES. */
int split_nets_new(const struct split_shape *shape, bool baseline, uint64_t seed,
                   struct split_nets **out, struct error *err);

/* Loads every network of `s` from "<stem>.<part>.bin" (learned.h); the
 * baseline networks only if s has them. */
int split_nets_load(struct split_nets *s, const char *stem, struct error *err);

void split_nets_free(struct split_nets *s);

/* Node outputs of B images: z is N x B x O (node-major). */
int split_nodes_forward(struct split_nets *s, const float *images, int B, float *z,
                        struct error *err);

/* Decoder on the node outputs z (N x B x O) with the nodes whose bit is set
 * in `erased` zeroed: logits (B x C). */
int split_decode(struct split_nets *s, const float *z, int B, unsigned erased, float *logits,
                 struct error *err);

/* Exhaustive training replicates each image over every mask with up to s
 * erasures: sum over e <= s of C(N, e) decoder rows, at most this many. */
enum { SPLIT_TRAIN_MASKS = 256 };
double split_train_masks(int nodes, int stragglers);

struct split_train_config {
    struct split_shape shape;
    int stragglers;       /* exhaustive: every mask with up to this many erasures */
    double erasure_prob;  /* > 0: independent erasures instead */
    bool baseline;        /* also train the averaging baseline */
    struct learned_options opt;
};

/* Trains nodes and decoder jointly on `data` (validation images held out and
 * scored after each epoch: accuracy with `stragglers` erasures, or 1 in
 * random mode). Caller frees *out with split_nets_free. */
int split_train(const struct split_train_config *c, const struct fmnist *data,
                struct split_nets **out, learned_progress_fn progress, void *ctx,
                struct error *err);

/* The joint loss of B images, each replicated over the M erasure masks
 * (bit i: node i erased): the mean cross-entropy over the B*M decoder rows
 * in *loss and its gradient in every node's and the decoder's grads
 * (zeroed first). The training step; exposed for gradient checks. */
int split_loss_and_grad(struct split_nets *s, const float *x, const int *labels, int B,
                        const unsigned *masks, int M, double *loss, struct error *err);

/* Accuracy with e stragglers (e = 0..N-1), averaged over every mask with e
 * erasures (over SPLIT_EVAL_MASKS of them drawn at random, from a fixed
 * stream, when there are more), for the learned decoder and (NaN without
 * baseline nets) the averaging baseline, on images idx[0..n) (idx NULL:
 * 0..n-1). */
enum { SPLIT_EVAL_MASKS = 64 };
struct split_eval {
    double accuracy[SPLIT_MAX_NODES];
    double averaging_accuracy[SPLIT_MAX_NODES];
};

int split_evaluate(struct split_nets *s, const struct fmnist *data, const int *idx, size_t n,
                   struct split_eval *out, struct error *err);

/* Trains the split networks as the config says (scheme.patches,
 * scheme.tiling, scheme.grid_rows,
 * scheme.node_model, scheme.decoder_model, scheme.mask_input,
 * scheme.train_stragglers, scheme.erasure_prob, scheme.baseline), saves
 * parts "node<i>", "decoder" and "avg<i>" and logs the test-set accuracy
 * per straggler count: scheme_split's .train hook. */
int split_train_command(const struct learned_train_env *env, struct error *err);

#endif
