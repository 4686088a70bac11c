/* registry.c: the list of schemes the driver can name, the scheme.* keys
 * every scheme shares, the task-cost override and the train.target choices
 * (the schemes with a .train hook). Adding a scheme is one
 * line in each of the two lists below (and the scheme.kind choices); nothing
 * here knows what a scheme does. */
#include "schemes/scheme.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct scheme_ops scheme_uncoded, scheme_kofn, scheme_replication, scheme_hedged;
extern const struct scheme_ops scheme_berrut, scheme_nercc, scheme_lagrange;
extern const struct scheme_ops scheme_parm, scheme_split, scheme_learned_lagrange;
extern const struct scheme_ops scheme_naive, scheme_ignore, scheme_frc, scheme_crc, scheme_approx_gc,
    scheme_ssp;

const struct scheme_ops *const scheme_registry[] = {
    &scheme_uncoded,
    &scheme_kofn,
    &scheme_replication,
    &scheme_hedged,
    &scheme_berrut,
    &scheme_nercc,
    &scheme_lagrange,
    &scheme_parm, &scheme_split, &scheme_learned_lagrange,
    &scheme_naive, &scheme_ignore, &scheme_frc, &scheme_crc, &scheme_approx_gc, &scheme_ssp,
    NULL,
};

const struct config_key scheme_common_keys[] = {
    {"scheme.kind", KEY_ENUM, "uncoded", 0, 0, 0,
     "uncoded|kofn|replication|hedged|berrut|nercc|lagrange|parm|split|learned-lagrange|naive|ignore|frc|crc|approx-gc|ssp",
     "the straggler-mitigation scheme"},
    {"scheme.task_cost", KEY_REAL, NULL, 0, INFINITY, KEY_MIN_OPEN, NULL,
     "cost of every task, overriding the scheme's default (a job has cost 1)"},
    {"scheme.placement", KEY_ENUM, "random", 0, 0, 0, "random|round_robin|shortest_queue",
     "worker choice for schemes that use fewer tasks than workers (hedged)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

bool scheme_trainable_names(const char *sep, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (const struct scheme_ops *const *s = scheme_registry; *s; s++) {
        if (!(*s)->train)
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? sep : "", (*s)->name);
        if (n < 0 || (size_t)n >= outlen - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

char scheme_train_targets[512];

/* Fills scheme_train_targets from the registry at load time; a registry
 * that does not fit is a programming error caught by any test. */
__attribute__((constructor)) static void train_targets_fill(void)
{
    strcpy(scheme_train_targets, "base|");
    size_t n = strlen(scheme_train_targets);
    if (!scheme_trainable_names("|", scheme_train_targets + n, sizeof scheme_train_targets - n))
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
                  (!(workload & SCHEME_TRAINING) || ops->train_prepare);
    if (!serves)
        return error_at_key(err, p, "scheme.kind", "scheme '%s' does not run the %s workload",
                            ops->name, workload_name);
    return 0;
}

double scheme_task_cost(const struct params *p, double default_cost)
{
    return params_has(p, "scheme.task_cost") ? params_real(p, "scheme.task_cost") : default_cost;
}
