/* batch_forward.h: forward passes over many rows, bit-identical on any
 * number of threads, and the process-wide OpenBLAS thread count.
 *
 * The rows of a call are cut into batches of `batch` rows from the first
 * row on (the last batch may be short); each batch is one
 * model_infer on one thread, over a replica of the model that holds the
 * same weights. A row's outputs therefore depend only on the weights, the
 * rows of its batch and the cut, never on the number of threads or on what
 * ran before (OpenBLAS must run single-threaded meanwhile: see
 * blas_threads_set). Batches of a few dozen rows (BATCH_FORWARD_ROWS) also
 * keep a LeNet5's activations in cache, where one forward over a thousand
 * rows does not.
 *
 * Threads: a team of `threads` replicas (replica 0 is the caller's model);
 * threads take the next batch from a counter and write its outputs to their
 * place, so a thread slowed down by another process takes fewer batches.
 * Does not load weights or data.
 */
#ifndef STRAG_BATCH_FORWARD_H
#define STRAG_BATCH_FORWARD_H

#include <stddef.h>

#include "models/model.h"
#include "base/error.h"

enum { BATCH_FORWARD_ROWS = 64 }; /* the usual batch: cache-sized */

struct batch_forward;

/* A team of `threads` (>= 1) replicas of m, which must already hold its
 * weights and must outlive the team. */
int batch_forward_new(struct batch_forward **out, struct model *m, int threads,
                      struct error *err);
void batch_forward_free(struct batch_forward *bf);

/* out (rows, m->outputs) = the model's outputs on x (rows, m->input_size),
 * in batches of `batch` rows (1 <= batch <= BATCH_FORWARD_ROWS). */
int batch_forward_run(struct batch_forward *bf, const float *x, size_t rows, int batch,
                      float *out, struct error *err);

/* Sets OpenBLAS's (process-wide) thread count and returns the previous one,
 * so a caller can restore it. */
int blas_threads_set(int threads);

#endif
