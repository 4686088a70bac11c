/* latency.c: the latency registry (kind name -> create function), the one
 * table of every latency.* key, and the typed key readers the kinds share.
 * The sources themselves live in dist.c (i.i.d. kinds), markov.c and
 * replay.c; this file draws nothing.
 */
#include "traces/latency.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "traces/latency_impl.h"

#define IID_KINDS "exp|shifted_exp|pareto|lognormal|weibull"
#define POS INFINITY /* open-ended upper bound */

/* One row per key; `kind` selects which ones a source reads. latency.kind
 * has no default (a config says which source it uses); other keys without a
 * default are required only by the kinds that read them (the create
 * functions say which). The active.* and slow.* rows are the same
 * distribution keys, one set per state of the markov chain. */
/* The distribution keys of one markov state (STATE is active or slow):
 * the same keys as the i.i.d. kinds', under latency.STATE. */
#define STATE_KEYS(STATE, WHOSE)                                                             \
    {"latency." STATE ".kind", KEY_ENUM, NULL, 0, 0, 0, IID_KINDS,                            \
     "markov (required): distribution of " WHOSE " draws"},                                  \
        {"latency." STATE ".rate", KEY_REAL, "1", 0, POS, KEY_MIN_OPEN, NULL,                 \
         "markov " STATE " state: rate (exp, shifted_exp)"},                                  \
        {"latency." STATE ".shift", KEY_REAL, NULL, 0, POS, 0, NULL,                          \
         "markov " STATE " state: shift (shifted_exp, required there)"},                      \
        {"latency." STATE ".scale", KEY_REAL, "1", 0, POS, KEY_MIN_OPEN, NULL,                \
         "markov " STATE " state: scale (pareto x_m, weibull)"},                              \
        {"latency." STATE ".shape", KEY_REAL, NULL, 0, POS, KEY_MIN_OPEN, NULL,               \
         "markov " STATE " state: shape (pareto, weibull; required there)"},                  \
        {"latency." STATE ".mu", KEY_REAL, "0", -POS, POS, 0, NULL,                           \
         "markov " STATE " state: mu (lognormal)"},                                           \
        {"latency." STATE ".sigma", KEY_REAL, "1", 0, POS, 0, NULL,                           \
         "markov " STATE " state: sigma (lognormal)"}

const struct config_key latency_keys[] = {
    {"latency.kind", KEY_ENUM, NULL, 0, 0, 0, IID_KINDS "|bimodal|markov|replay",
     "latency source: a task of cost c takes c times one draw"},
    {"latency.rate", KEY_REAL, "1", 0, POS, KEY_MIN_OPEN, NULL,
     "exp, shifted_exp, bimodal: rate of the exponential part (mean 1/rate)"},
    {"latency.shift", KEY_REAL, NULL, 0, POS, 0, NULL,
     "shifted_exp (required): constant part of a draw; bimodal: base shift (0 if unset)"},
    {"latency.scale", KEY_REAL, "1", 0, POS, KEY_MIN_OPEN, NULL,
     "pareto: x_m (minimum); weibull: scale; replay: multiplier of trace values"},
    {"latency.shape", KEY_REAL, NULL, 0, POS, KEY_MIN_OPEN, NULL,
     "pareto: tail index alpha; weibull: shape k (required by both)"},
    {"latency.mu", KEY_REAL, "0", -POS, POS, 0, NULL, "lognormal: mean of log(draw)"},
    {"latency.sigma", KEY_REAL, "1", 0, POS, 0, NULL, "lognormal: std deviation of log(draw)"},
    {"latency.slow_prob", KEY_REAL, NULL, 0, 1, 0, NULL,
     "bimodal (required): probability that a draw is slow"},
    {"latency.slow_factor", KEY_REAL, NULL, 1, POS, 0, NULL,
     "bimodal (required): a slow draw is slow_factor times a shifted_exp(shift, rate) draw"},
    {"latency.p_active_to_slow", KEY_REAL, NULL, 0, 1, 0, NULL,
     "markov (required without slow_nodes): per-iteration probability that an active worker turns slow"},
    {"latency.p_slow_to_active", KEY_REAL, NULL, 0, 1, 0, NULL,
     "markov (required without slow_nodes): per-iteration probability that a slow worker recovers"},
    {"latency.slow_nodes", KEY_INT, NULL, 0, 1e6, 0, NULL,
     "markov: exactly this many slow workers (n_s, a uniformly random set) instead of the chain"},
    {"latency.reclass_every", KEY_INT, NULL, 1, 1e9, 0, NULL,
     "markov with slow_nodes: re-draw the slow set every this many iterations (unset: permanent)"},
    {"latency.p_straggle_active", KEY_REAL, NULL, 0, 1, 0, NULL,
     "markov: per-iteration probability that an active worker straggles (unset: 0)"},
    {"latency.p_straggle_slow", KEY_REAL, NULL, 0, 1, 0, NULL,
     "markov: per-iteration probability that a slow worker straggles (unset: 0)"},
    {"latency.straggle_factor", KEY_REAL, NULL, 1, POS, 0, NULL,
     "markov: a straggling worker's draw is this many times its class's draw"},
    STATE_KEYS("active", "an active worker's"),
    STATE_KEYS("slow", "a slow worker's"),
    {"latency.file", KEY_PATH, NULL, 0, 0, 0, NULL,
     "replay (required): CSV trace, one row per (worker, iteration)"},
    {"latency.worker_column", KEY_STRING, "worker", 0, 0, 0, NULL,
     "replay: worker id column, by header name or 1-based number"},
    {"latency.iteration_column", KEY_STRING, "time", 0, 0, 0, NULL,
     "replay: iteration column (name or number); distinct values in order are iterations"},
    {"latency.value_column", KEY_STRING, "batch_time_norm", 0, 0, 0, NULL,
     "replay: duration column (name or number), times latency.scale"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

const struct latency_kind *const latency_kinds[] = {
    &latency_exp,     &latency_shifted_exp, &latency_pareto, &latency_lognormal,
    &latency_weibull, &latency_bimodal,     &latency_markov, &latency_replay,
    NULL,
};

const struct latency_kind *latency_kind_find(const char *name)
{
    for (const struct latency_kind *const *k = latency_kinds; name && *k; k++)
        if (strcmp((*k)->name, name) == 0)
            return *k;
    return NULL;
}

int latency_new(const struct params *p, int workers, uint64_t seed, uint64_t point_key,
                struct latency_source **out, struct error *err)
{
    *out = NULL;
    if (workers < 1)
        return error_fail(err, "latency: %d workers (need at least 1)", workers);
    const char *name;
    int rc = latency_param_string(p, "latency.kind", NULL, NULL, false, &name, err);
    if (rc)
        return rc;
    if (!name)
        return error_at_key(err, p, "latency.kind", "missing (expected one of %s)",
                            latency_keys[0].choices);
    const struct latency_kind *kind = latency_kind_find(name);
    if (!kind) /* unreachable after the enum check, unless the table and registry drift */
        return error_at_key(err, p, "latency.kind", "no latency kind '%s'", name);
    return kind->create(p, workers, seed, point_key, out, err);
}

bool latency_key_applies(const struct params *p, const char *key)
{
    if (strcmp(key, "latency.kind") == 0)
        return true;
    const struct latency_kind *kind = latency_kind_find(params_get(p, "latency.kind"));
    return !kind || kind->reads(p, key);
}

void latency_free(struct latency_source *s)
{
    if (s)
        s->ops->free(s);
}

/* Finds the value of `key`, checked against its table entry; *value = NULL
 * if unset. */
static int param_checked(const struct params *p, const char *key, const char *kind_key,
                         const char *kind, bool required, const char **value,
                         struct error *err)
{
    const struct config_key *k = config_key_find(latency_keys, key);
    if (!k)
        return error_fail(err, "internal: %s is not in latency_keys", key);
    *value = params_get(p, key);
    if (!*value) {
        if (required)
            return error_at_key(err, p, key, "missing (required when %s = %s)", kind_key, kind);
        return 0;
    }
    char why[256];
    if (!config_key_check(k, *value, why, sizeof why))
        return error_at_key(err, p, key, "%s", why);
    return 0;
}

int latency_param_real(const struct params *p, const char *key, const char *kind_key,
                       const char *kind, bool required, double fallback, double *out,
                       struct error *err)
{
    const char *v;
    int rc = param_checked(p, key, kind_key, kind, required, &v, err);
    if (rc)
        return rc;
    *out = v ? params_real(p, key) : fallback;
    return 0;
}

int latency_param_string(const struct params *p, const char *key, const char *kind_key,
                         const char *kind, bool required, const char **out, struct error *err)
{
    return param_checked(p, key, kind_key, kind, required, out, err);
}
