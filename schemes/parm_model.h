/* parm_model.h: the learning side of ParM (Kosaian, Rashmi, Venkataraman,
 * SOSP 2019): the parity-query encoders, training a parity model, the
 * subtraction decoder, and the accuracy of degraded mode.
 *
 * A coding group is k queries X_1..X_k (28x28 images, flattened) for the
 * base model F. The encoder makes one parity query P of the same shape:
 *   add     P = sum_i X_i (no renormalisation: pixels in [0, k]);
 *   concat  k = 2: each image down-sampled to 28x14, placed side by side;
 *           k = 4: each down-sampled to 14x14, placed in the quadrants
 *           (X_1 top left, X_2 top right, X_3 bottom left, X_4 bottom right).
 * Down-sampling is bilinear with half-pixel centres (PyTorch's
 * interpolate(mode="bilinear", align_corners=False), no antialiasing): at a
 * factor of 2 it is exactly the mean of each 2x2 block.
 * The parity model F_P has F's architecture, is trained from scratch with
 * MSE to T = sum_i F(X_i) (base logits), and a missing output is decoded by
 * subtraction: F^(X_j) = F_P(P) - sum_{i != j} F(X_i).
 *
 * Does not schedule tasks (schemes/parm.c, sim/). parm_train_command is what
 * `stragsim train` runs for train.target = parm (scheme_parm.train).
 */
#ifndef STRAG_PARM_MODEL_H
#define STRAG_PARM_MODEL_H

#include <stddef.h>

#include "models/fmnist.h"
#include "models/model.h"
#include "schemes/common/learned.h"
#include "base/error.h"

enum parm_encoder { PARM_ADD, PARM_CONCAT };

enum { PARM_MAX_K = 4 };

/* "add" or "concat"; returns 0, or -1 for anything else. */
int parm_encoder_parse(const char *name, enum parm_encoder *out);
const char *parm_encoder_name(enum parm_encoder e);

/* Checks that the encoder takes k (add: 2..PARM_MAX_K; concat: 2 or 4).
 * STRAG_EINPUT with "encoder concat needs k = 2 or 4, got 3" and the like. */
int parm_check(enum parm_encoder e, int k, struct error *err);

/* Bilinear down-sampling (half-pixel centres) of img (h x w) to out (oh x ow). */
void parm_resize(const float *img, int h, int w, float *out, int oh, int ow);

/* One parity query (784) from k images (k x 784); (e, k) passed parm_check. */
void parm_encode(enum parm_encoder e, int k, const float *images, float *parity);

/* The subtraction decoder: out (C) = parity_out (C) - sum over i != missing
 * of outs[i] (outs is k x C). */
void parm_decode(const float *parity_out, const float *outs, int k, int missing, int C,
                 float *out);

struct parm_train_config {
    enum parm_encoder encoder;
    int k;
    struct learned_options opt;
};

/* Trains a parity model for `base` on `data` (the training images; the
 * validation images of opt.validation are held out and scored after each
 * epoch by degraded-mode accuracy). An epoch is k shuffled passes, each cut
 * into groups of k, so every image is in k groups per epoch whatever k is.
 * Base logits are computed once, before training. *parity has base's
 * architecture (caller frees). */
int parm_train(const struct parm_train_config *c, struct model *base, const struct fmnist *data,
               struct model **parity, learned_progress_fn progress, void *ctx,
               struct error *err);

/* Accuracy of a (base, parity) pair on images idx[0..n) of data (idx NULL:
 * images 0..n-1), in groups of k consecutive images; every group is decoded
 * once per erased position, as in the ParM paper's evaluation. */
struct parm_eval {
    size_t groups;
    double available_accuracy;      /* base model on the images */
    double degraded_accuracy;       /* decoded output vs label */
    double reconstruction_accuracy; /* argmax decoded == argmax base */
};

int parm_evaluate(struct model *base, struct model *parity, enum parm_encoder e, int k,
                  const struct fmnist *data, const int *idx, size_t n, struct parm_eval *out,
                  struct error *err);

/* Trains a parity model as the config says (scheme.k, scheme.encoder; the
 * base model workload.model with workload.weights), saves it as part
 * "parity" and logs its test-set accuracy: scheme_parm's .train hook. */
int parm_train_command(const struct learned_train_env *env, struct error *err);

#endif
