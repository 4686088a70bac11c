/* train_learned.h: `stragsim train` for a learned code (train.target = the
 * name of a scheme with a .train hook): reads the [train] options, loads
 * Fashion-MNIST, refuses before training to overwrite weights files (unless
 * --force), and hands the scheme's trainer a struct learned_train_env whose
 * save writes each network to <scheme.learned_weights>.<part>.bin. Names no
 * scheme. cmd_train.c calls it; the base model's training stays there.
 */
#ifndef STRAG_TRAIN_LEARNED_H
#define STRAG_TRAIN_LEARNED_H

#include <stdbool.h>

#include "app/config.h"
#include "base/error.h"

/* True when the config asks for a learned code (train.target set and not
 * "base"). */
bool train_learned_wanted(const struct config *cfg);

/* Trains the code named by train.target; errors carry "file:line:". */
int train_learned(const struct config *cfg, bool quiet, bool force, struct error *err);

#endif
