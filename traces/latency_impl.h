/* latency_impl.h: what the latency kinds share inside traces/ (not part of
 * the public interface): the kind objects the registry lists, and typed
 * readers of latency.* keys that re-check each value against latency_keys
 * and report a missing kind-specific key. Not for callers outside traces/.
 */
#ifndef STRAG_LATENCY_IMPL_H
#define STRAG_LATENCY_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/params.h"
#include "traces/latency.h"

/* The kinds, one family per file: dist.c (the i.i.d. distributions),
 * markov.c, replay.c. latency.c lists them in latency_kinds[]. */
extern const struct latency_kind latency_exp, latency_shifted_exp, latency_pareto,
    latency_lognormal, latency_weibull, latency_bimodal, latency_markov, latency_replay;

/* Reads `key` (a latency.* real key). Unset: if `required`, fails with
 * "key: missing (required when <kind_key> = <kind>)", else *out = fallback.
 * Set: the value is checked against its latency_keys entry (type, range)
 * even though the driver already did, so library callers get the same
 * messages. Returns 0 or the error status. */
int latency_param_real(const struct params *p, const char *key, const char *kind_key,
                       const char *kind, bool required, double fallback, double *out,
                       struct error *err);

/* Same for a string / enum / path key; unset gives *out = NULL unless required. */
int latency_param_string(const struct params *p, const char *key, const char *kind_key,
                         const char *kind, bool required, const char **out, struct error *err);

#endif
