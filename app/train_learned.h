/* train_learned.h: `stragsim train` for the learned codes (train.target =
 * parm | split | learned-lagrange): turns config keys into the trainers of
 * schemes/{parm,split,llc}_model.h, prints a progress line per epoch and a
 * test-set summary, and writes each network to <scheme.learned_weights>.
 * <part>.bin. cmd_train.c calls it; the base model's training stays there.
 */
#ifndef STRAG_TRAIN_LEARNED_H
#define STRAG_TRAIN_LEARNED_H

#include <stdbool.h>

#include "app/config.h"
#include "base/error.h"

/* True when the config asks for a learned code (train.target set and not
 * "base"). */
bool train_learned_wanted(const struct config *cfg);

/* Trains the target named by train.target; errors carry "file:line:". */
int train_learned(const struct config *cfg, bool quiet, bool force, struct error *err);

#endif
