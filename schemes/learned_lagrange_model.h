/* llc_model.h: the learning side of learned Lagrange coding (after Tang,
 * Agrawal, Stanczak, Zhu, "Coded Distributed Image Classification", arXiv
 * 2307.04915; the paper leaves some choices open, and those are options
 * here; doc/learned-codes.md says how we read it).
 *
 * K queries x_1..x_K (784 pixels each) are Lagrange-encoded
 * (code_lagrange.h: K Chebyshev data nodes alpha_j, N Chebyshev worker
 * nodes z_n): worker n gets u(z_n) = sum_j E[n,j] x_j and runs the trained
 * worker network g. The master takes the first R results (a set F of R
 * workers), interpolates them by the polynomial of degree R-1 through
 * their nodes and evaluates it at the data nodes:
 *   y_j = sum_{l in F} D_F[j,l] g(u(z_l))
 * and the trained decoder network h maps y_j to class scores. Worker and
 * decoder are trained end to end with cross-entropy against the labels,
 * the interpolation inside the loop: dL/dg_l = sum_j D_F[j,l] dL/dy_j. In
 * training F is a uniformly random R-subset per group (what the first R
 * arrivals are under i.i.d. latencies). Nothing of the code is learned:
 * E and D_F are Lagrange's.
 *
 * Two designs (the paper's two ways of splitting the load between master
 * and workers; our reading, doc/learned-codes.md): LLC_DESIGN_INPUT is the
 * above. LLC_DESIGN_FEATURE: the workers can read the K raw images of a
 * job; each runs a trained feature extractor f on all K, encodes the
 * features itself, u(z_n) = sum_j E[n,j] f(x_j), and runs the worker
 * network g on u(z_n); the master only interpolates and decodes. Trained
 * end to end likewise, with dL/df(x_j) = sum_l E[l,j] dL/du_l. Nothing in
 * the weights depends on N or R (only E and D_F do), so one trained set
 * serves any (N, R) of either design.
 *
 * Does not schedule tasks (schemes/learned_lagrange.c). llc_train_command is
 * what `stragsim train` runs for train.target = learned-lagrange
 * (scheme_learned_lagrange.train).
 */
#ifndef STRAG_LLC_MODEL_H
#define STRAG_LLC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "models/fmnist.h"
#include "models/model.h"
#include "schemes/common/learned.h"
#include "base/error.h"

#define LLC_DEFAULT_WORKER "dense200 relu dense100 relu dense10"
#define LLC_DEFAULT_DECODER "dense64 relu dense10"
#define LLC_DEFAULT_FEATURE "dense64 relu"

enum llc_design { LLC_DESIGN_INPUT, LLC_DESIGN_FEATURE };

enum { LLC_MAX_WORKERS = 64 };

struct llc_shape {
    int K, N, R;               /* queries, workers, results interpolated */
    const char *worker_model;  /* spec; "784: " prepended without ':' */
    const char *decoder_model; /* spec; "<worker outputs>: " prepended likewise */
    enum llc_design design;    /* 0: input */
    const char *feature_model; /* feature design: spec on an image ("784: "); NULL: default */
};

struct llc_nets {
    int K, N, R;
    double *alpha;   /* K data nodes */
    double *z;       /* N worker nodes */
    double *E;       /* N x K encoder */
    enum llc_design design;
    int width;       /* floats of a coded vector: 784 (input) or the feature size */
    struct model *feature; /* feature design: f on one image; NULL in the input design */
    struct model *worker, *decoder;
};

/* STRAG_EINPUT unless 1 <= K, 1 <= R <= N <= LLC_MAX_WORKERS
 * ("recovery threshold R = 9 is more than the N = 8 workers" and the like). */
int llc_check(const struct llc_shape *s, struct error *err);

/* The nodes, E, and the networks initialised from seed (worker: stream
 * index 40, decoder 41, feature extractor 42). */
int llc_nets_new(const struct llc_shape *s, uint64_t seed, struct llc_nets **out,
                 struct error *err);
/* Loads "<stem>.worker.bin" and "<stem>.decoder.bin" (and
 * "<stem>.feature.bin" in the feature design). */
int llc_nets_load(struct llc_nets *n, const char *stem, struct error *err);
void llc_nets_free(struct llc_nets *n);

/* Coded vectors of the workers used[0..count): out (count x width) from
 * the K vectors x (K x width): the images (input design) or their features
 * (feature design). */
void llc_encode(const struct llc_nets *n, const float *x, const int *used, int count,
                float *out);

/* What the workers used[0..count) return for the K images x (K x 784):
 * g (count x worker outputs). Input design: g(u(z_l)) of the encoded
 * images; feature design: f on the K images, encoding, g. */
int llc_workers_forward(struct llc_nets *n, const float *x, const int *used, int count,
                        float *g, struct error *err);

/* FLOPs of the data path, from the layer shapes (a multiply-add is 2;
 * activations and the R-dependent interpolation matrix D_F not counted):
 * the master's per job of K queries (input design: encoding all N coded
 * queries 2NK*784, interpolation 2KRd, K decoder passes; feature design:
 * interpolation and decoder) and one worker's per task (input: g; feature:
 * K passes of f, its own encoding 2K*width, g). */
struct llc_flops {
    double master_job, worker_task;
};
struct llc_flops llc_flops_of(const struct llc_nets *n);

/* The interpolation matrix D (K x count, floats) of the workers used[]. */
int llc_decoder_matrix(const struct llc_nets *n, const int *used, int count, float *D,
                       struct error *err);

/* From the worker outputs g (count x d) of used[0..count): class scores
 * (K x C) of the K queries. */
int llc_decode(struct llc_nets *n, const int *used, int count, const float *g, float *logits,
               struct error *err);

struct llc_train_config {
    struct llc_shape shape;
    const char *worker_init;   /* weights file the worker starts from; NULL: from scratch */
    struct learned_options opt;
};

/* Trains worker and decoder end to end on `data` (batch = groups of K per
 * step; validation accuracy after each epoch). Caller frees *out. */
int llc_train(const struct llc_train_config *c, const struct fmnist *data, struct llc_nets **out,
              learned_progress_fn progress, void *ctx, struct error *err);

/* The end-to-end loss of B groups (x: B*K images, labels B*K) decoded from
 * the workers used (B x R, each row increasing): the mean cross-entropy in
 * *loss and its gradient in the worker's and decoder's grads (zeroed
 * first). The training step; exposed for gradient checks. */
int llc_loss_and_grad(struct llc_nets *n, const float *x, const int *labels, int B,
                      const int *used, double *loss, struct error *err);

/* Accuracy on images idx[0..n) (NULL: 0..n-1) in groups of K consecutive
 * images, each decoded from a uniformly random R-subset of workers drawn
 * from stream (seed, 0, RNG_STRAGGLERS, 1). */
int llc_evaluate(struct llc_nets *n, const struct fmnist *data, const int *idx, size_t count,
                 uint64_t seed, double *accuracy, struct error *err);

/* The design keys into s (K and N set): scheme.design (default input) and
 * scheme.feature_model; STRAG_EINPUT at the key for a feature extractor in
 * the input design and for K > N in the feature design (serving packs a
 * job's K images into its N task inputs). */
int llc_shape_design(const struct params *p, struct llc_shape *s, struct error *err);

/* Trains the worker and decoder networks as the config says
 * (workload.queries, cluster.workers, scheme.stragglers,
 * scheme.recovery_threshold, scheme.worker_model, scheme.decoder_model,
 * scheme.worker_init, scheme.design, scheme.feature_model), saves parts
 * "worker" and "decoder" (and "feature" in the feature design) and logs the
 * test-set accuracy: scheme_learned_lagrange's .train hook. */
int llc_train_command(const struct learned_train_env *env, struct error *err);

#endif
