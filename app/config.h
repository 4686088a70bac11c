/* config.h: loading an experiment ini file (inih) into validated params and
 * a sweep.
 *
 * Sections and keys are those of README.md and doc/stragsim.1; every key is
 * checked against the key tables (driver keys, latency_keys,
 * scheme_common_keys, every scheme's keys): unknown section or key, wrong
 * type, out of range, unreadable file,
 * malformed [sweep] line all give one line "file:line: message" (STRAG_EINPUT).
 * `--set section.key=value` overrides are applied over the file (their
 * errors read "--set section.key=value: ..."). Each [sweep] line `section.key = v1, v2, ...` is
 * one grid axis; the run is the axes' cartesian product times
 * experiment.repeats. Every point's params hold every key of the base config
 * plus defaults, with its sweep values applied. Values are kept as written;
 * each is recorded with the config file's directory, against which
 * params_path() resolves a relative KEY_PATH value (a relative path given
 * with --set is made absolute from the working directory instead).
 */
#ifndef STRAG_CONFIG_H
#define STRAG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/params.h"

struct config;

int config_load(const char *path, const char *const *sets, size_t nsets, struct config **out,
                struct error *err);
/* The same, without requiring the keys only `run` needs (workload.kind,
 * latency.kind, ...): for `stragsim train`, whose configs name a model and
 * its training, not an experiment. Everything given is still validated. */
int config_load_for_training(const char *path, const char *const *sets, size_t nsets,
                             struct config **out, struct error *err);
void config_free(struct config *c);

/* The config with no sweep values applied (defaults filled). */
const struct params *config_base(const struct config *c);
const char *config_path(const struct config *c);
const char *config_text(const struct config *c); /* the file's text plus the --set lines */

/* Number of runs: product of the sweep axes' lengths times repeats. */
size_t config_points(const struct config *c);

/* The i-th run (0 <= i < config_points): its params (caller frees), the
 * repeat index, and its point key (caller frees): a hex hash of the
 * canonical params and the repeat. Points are ordered with the first sweep
 * axis slowest, repeats fastest. Validates semantic constraints that need
 * the whole point (e.g. a sweep value for a key another key constrains). */
int config_point(const struct config *c, size_t i, struct params **out, int *repeat,
                 char **point_key, struct error *err);

/* The [sweep] axes, in file order (for progress lines and reports). */
size_t config_axes(const struct config *c);
const char *config_axis_key(const struct config *c, size_t axis);

/* The 64-bit hash a point key is the hex of: the `point_key` argument of
 * rng_seed(), latency_new(), workload_*_run() for that point. */
uint64_t config_key_hash(const char *point_key);

/* The text a point key hashes (before "\nrepeat=N" is appended): the
 * canonical params that apply to the point (config_key_applies), without
 * experiment.name/db/repeats and without keys whose value is their own
 * default, so adding a new key with a default to stragsim changes no
 * existing point's key, streams or numbers. The exact form and hash are
 * documented in config.c above this function. Caller frees. */
char *config_point_canonical(const struct params *p);

/* The key a point's random streams are seeded with (rng_seed's point_key).
 * With experiment.common_streams (the default) the scheme.* params are left
 * out, so points
 * that differ only in their scheme draw the same arrivals, service times,
 * straggler states and queries (common random numbers); with
 * common_streams = false it is the hash behind the point key
 * (config_key_hash(point_key)). 0 when out of memory. */
uint64_t config_stream_key(const struct params *p, int repeat);

/* Whether point p's run reads `key` (see config.c for the rule: by the
 * point's workload, scheme and latency kinds). The point key and the stored
 * params keep only such keys. */
bool config_key_applies(const struct params *p, const char *key);
/* A copy of p without the keys that do not apply to it (caller frees; NULL
 * when out of memory). */
struct params *config_params_applied(const struct params *p);

/* All key tables the validator accepts, NULL-terminated (for `config --list`). */
extern const struct config_key *const config_tables[];

/* The driver's own keys: [experiment], [cluster], [workload], [train]. */
extern const struct config_key driver_keys[];

#endif
