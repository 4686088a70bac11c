/* training_tuner.h: the tuner inside the training loops (private to
 * workloads/): its keys and held-out validation images at set-up, the
 * per-worker task times it sees, and a decision at every window's end
 * applied to the model and optimiser. training.c and ssp.c call it; the
 * decision rules are tuner.c. */
#ifndef STRAG_TRAINING_TUNER_H
#define STRAG_TRAINING_TUNER_H

#include <stdint.h>

#include "base/error.h"
#include "base/params.h"

struct training;

/* Reads the tuner keys and the starting setting (before the partitions:
 * a tuner holds validation images out of the training subset). */
int training_tuner_config(struct training *t, const struct params *p, struct error *err);

/* Images held out of training for a tuner's validation (0 without one). */
int training_tuner_holdout(const struct training *t);

/* Builds the tuner and gathers its validation images (after the model and
 * optimiser exist). Nothing without a tuner. */
int training_tuner_setup(struct training *t, const struct params *p, uint64_t seed,
                         uint64_t point_key, struct error *err);

/* A task of `worker` took `time_per_cost` simulated seconds per unit cost. */
void training_tuner_observe(struct training *t, int worker, double time_per_cost);

/* After row t->done - 1 at simulated time `now`: when `rows_per_window`
 * rows have passed since the last decision (and the run goes on), measures
 * the window, lets the tuner decide and applies the learning rate, weight
 * decay, dropout and (coded) batch; ssp reads t->setting for its own. */
int training_tuner_window(struct training *t, long rows_per_window, long rows_total, double now,
                          struct error *err);

void training_tuner_free(struct training *t);

#endif
