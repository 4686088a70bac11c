/* registry.c: the list of schemes the driver can name, the scheme.* keys
 * every scheme shares, the task-cost override, and the scheme.kind and
 * train.target choices (all schemes; those with a .train hook), built from
 * the list. Adding a scheme is one line in each of the two lists below;
 * nothing here knows what a scheme does. */
#include "schemes/scheme.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct scheme_ops scheme_uncoded, scheme_kofn, scheme_replication, scheme_hedged;
extern const struct scheme_ops scheme_berrut, scheme_nercc, scheme_lagrange;
extern const struct scheme_ops scheme_barycentric;
extern const struct scheme_ops scheme_letcc;
extern const struct scheme_ops scheme_bspline;
extern const struct scheme_ops scheme_parm, scheme_split, scheme_learned_lagrange;
extern const struct scheme_ops scheme_naive, scheme_ignore, scheme_frc, scheme_crc, scheme_approx_gc,
    scheme_ssp;
extern const struct scheme_ops scheme_pipeline_none, scheme_stage_replication, scheme_rebalance;

const struct scheme_ops *const scheme_registry[] = {
    &scheme_uncoded,
    &scheme_kofn,
    &scheme_replication,
    &scheme_hedged,
    &scheme_berrut,
    &scheme_nercc,
    &scheme_lagrange,
    &scheme_barycentric,
    &scheme_letcc,
    &scheme_bspline,
    &scheme_parm, &scheme_split, &scheme_learned_lagrange,
    &scheme_naive, &scheme_ignore, &scheme_frc, &scheme_crc, &scheme_approx_gc, &scheme_ssp,
    &scheme_pipeline_none, &scheme_stage_replication, &scheme_rebalance,
    NULL,
};

const struct config_key scheme_common_keys[] = {
    {"scheme.kind", KEY_ENUM, "uncoded", 0, 0, 0, scheme_kind_choices,
     "the straggler-mitigation scheme"},
    {"scheme.task_cost", KEY_REAL, NULL, 0, INFINITY, KEY_MIN_OPEN, NULL,
     "cost of every task, overriding the scheme's default (a job has cost 1)"},
    {"scheme.placement", KEY_ENUM, "random", 0, 0, 0, "random|round_robin|shortest_queue",
     "worker choice for schemes that use fewer tasks than workers (hedged)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* The names of the registry's schemes (with a .train hook only, when
 * trainable), joined by sep; false when they do not fit. */
static bool scheme_names(bool trainable, const char *sep, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (const struct scheme_ops *const *s = scheme_registry; *s; s++) {
        if (trainable && !(*s)->train)
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? sep : "", (*s)->name);
        if (n < 0 || (size_t)n >= outlen - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

bool scheme_trainable_names(const char *sep, char *out, size_t outlen)
{
    return scheme_names(true, sep, out, outlen);
}

char scheme_kind_choices[1024];
char scheme_train_targets[512];

/* Fills the two choice strings from the registry at load time, so the key
 * tables can point at them; a registry that does not fit is a programming
 * error caught by any test. */
__attribute__((constructor)) static void scheme_choices_fill(void)
{
    strcpy(scheme_train_targets, "base|");
    size_t n = strlen(scheme_train_targets);
    if (!scheme_names(false, "|", scheme_kind_choices, sizeof scheme_kind_choices) ||
        !scheme_names(true, "|", scheme_train_targets + n, sizeof scheme_train_targets - n))
        abort();
}

const struct scheme_ops *scheme_find(const char *name)
{
    for (const struct scheme_ops *const *s = scheme_registry; name && *s; s++)
        if (strcmp((*s)->name, name) == 0)
            return *s;
    return NULL;
}

int scheme_for_workload(const struct params *p, unsigned workload, const char *workload_name,
                        const struct scheme_ops **out, struct error *err)
{
    const char *kind = params_get(p, "scheme.kind");
    const struct scheme_ops *ops = *out = scheme_find(kind);
    if (!ops)
        return error_at_key(err, p, "scheme.kind", "unknown scheme '%s'", kind ? kind : "");
    bool serves = (ops->workloads & workload) == workload &&
                  (!(workload & SCHEME_TRAINING) || ops->train_prepare) &&
                  (!(workload & SCHEME_PIPELINE) || ops->pipeline_prepare);
    if (!serves)
        return error_at_key(err, p, "scheme.kind", "scheme '%s' does not run the %s workload",
                            ops->name, workload_name);
    return 0;
}

double scheme_task_cost(const struct params *p, double default_cost)
{
    return params_has(p, "scheme.task_cost") ? params_real(p, "scheme.task_cost") : default_cost;
}
