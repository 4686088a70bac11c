/* fmnist.h: reading Fashion-MNIST from its gzip IDX files, the
 * train/validation split, and gathering mini-batches.
 *
 * Reads the four files of Debian's dataset-fashion-mnist package
 * (/usr/share/datasets/fashion-mnist by default): train-images-idx3-ubyte.gz,
 * train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
 * t10k-labels-idx1-ubyte.gz (uncompressed IDX files under the same names
 * are read too: zlib passes them through). Every malformed file gives one
 * line "PATH: what is wrong" (STRAG_EINPUT).
 *
 * Pixels become float32 pixel/255 in [0, 1], with no mean/std
 * normalisation: coded-inference schemes combine raw inputs linearly, and
 * [0, 1] keeps an encoded query a valid "image" whose scale is the data's own.
 * Does not train or know about models.
 */
#ifndef STRAG_FMNIST_H
#define STRAG_FMNIST_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum {
    FMNIST_ROWS = 28,
    FMNIST_COLS = 28,
    FMNIST_PIXELS = FMNIST_ROWS * FMNIST_COLS,
    FMNIST_CLASSES = 10,
    FMNIST_MAX_IMAGES = 1000000, /* refuse headers claiming more (a corrupt count) */
};

#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

enum fmnist_part { FMNIST_TRAIN, FMNIST_TEST };

struct fmnist {
    size_t n;
    float *images; /* n x 784, row-major, pixel/255 in [0, 1] */
    int *labels;   /* n, each in 0..9 */
};

/* Reads one images file and its labels file; counts must agree. */
int fmnist_read(const char *images_path, const char *labels_path, struct fmnist *out,
                struct error *err);

/* Reads the training (60,000) or test (10,000) part from `dir` (NULL: the
 * default directory) under the standard file names. */
int fmnist_load(const char *dir, enum fmnist_part part, struct fmnist *out, struct error *err);

void fmnist_free(struct fmnist *d);

/* The deterministic train/validation split: perm (n ints) becomes a
 * permutation of 0..n-1 drawn from rng stream (seed, 0, RNG_DATA, 0). Callers
 * holding out v images use perm[0 .. n-v) for training and perm[n-v .. n)
 * for validation, so a seed names the same split for every model. */
void fmnist_split(size_t n, uint64_t seed, int *perm);

/* Copies images idx[0..count) into x (count x 784) and their labels into y. */
void fmnist_gather(const struct fmnist *d, const int *idx, size_t count, float *x, int *y);

#endif
