/* smoke.c: the --smoke caps (see smoke.h). The one table below says what
 * "tiny" means for every workload and for training; add a row when a
 * workload gains a size key. */
#include "app/smoke.h"

#include <stdlib.h>
#include <string.h>

static const struct smoke_cap {
    enum smoke_command cmd;
    const char *key;
    long cap;
    const char *workload; /* only configs of this workload.kind; NULL: any */
} smoke_caps[] = {
    {SMOKE_RUN, "experiment.repeats", 2, NULL},
    {SMOKE_RUN, "workload.jobs", 40, "latency"},
    {SMOKE_RUN, "workload.jobs", 40, "inference"},
    {SMOKE_RUN, "workload.warmup", 10, "latency"},
    {SMOKE_RUN, "workload.warmup", 10, "inference"},
    {SMOKE_RUN, "scheme.validation_jobs", 4, "inference"}, /* nercc's lambda grid search */
    {SMOKE_RUN, "workload.iterations", 5, "training"},
    {SMOKE_RUN, "workload.batch", 64, "training"}, /* at least one example per partition */
    {SMOKE_RUN, "workload.train_limit", 2000, "training"},
    {SMOKE_RUN, "workload.test_limit", 500, "training"},
    {SMOKE_RUN, "workload.iterations", 5, "pipeline"},
    {SMOKE_RUN, "workload.train_limit", 2000, "pipeline"},
    {SMOKE_RUN, "workload.test_limit", 500, "pipeline"},
    {SMOKE_TRAIN, "train.epochs", 1, NULL},
    {SMOKE_TRAIN, "train.limit", 1000, NULL},
    {SMOKE_TRAIN, "train.validation", 500, NULL},
};
enum { SMOKE_CAPS = sizeof smoke_caps / sizeof smoke_caps[0] };

/* Whether cap applies to c and lowers its value: the key is above the cap,
 * absent (no default: unbounded, e.g. train.limit = every image) or swept. */
static bool cap_lowers(const struct config *c, enum smoke_command cmd,
                       const struct smoke_cap *cap)
{
    const struct params *base = config_base(c);
    const char *kind = params_get(base, "workload.kind");
    if (cap->cmd != cmd || (cap->workload && (!kind || strcmp(kind, cap->workload) != 0)))
        return false;
    for (size_t a = 0; a < config_axes(c); a++)
        if (strcmp(config_axis_key(c, a), cap->key) == 0)
            return true;
    return !params_has(base, cap->key) || params_int(base, cap->key) > cap->cap;
}

static int load(enum smoke_command cmd, const char *path, const char *const *sets, size_t nsets,
                struct config **out, struct error *err)
{
    return cmd == SMOKE_RUN ? config_load(path, sets, nsets, out, err)
                            : config_load_for_training(path, sets, nsets, out, err);
}

int smoke_config_load(enum smoke_command cmd, bool smoke, const char *path,
                      const char *const *sets, size_t nsets, struct config **out,
                      struct error *err)
{
    int rc = load(cmd, path, sets, nsets, out, err);
    if (rc || !smoke)
        return rc;
    char lines[SMOKE_CAPS][96];
    const char **all = malloc((nsets + SMOKE_CAPS) * sizeof *all);
    if (!all) {
        config_free(*out);
        *out = NULL;
        return error_fail(err, "out of memory");
    }
    size_t n = nsets;
    if (nsets) /* sets may be NULL when there are none */
        memcpy(all, sets, nsets * sizeof *all);
    for (size_t i = 0; i < SMOKE_CAPS; i++)
        if (cap_lowers(*out, cmd, &smoke_caps[i])) {
            snprintf(lines[i], sizeof lines[i], "%s=%ld", smoke_caps[i].key, smoke_caps[i].cap);
            all[n++] = lines[i];
        }
    config_free(*out);
    rc = load(cmd, path, all, n, out, err);
    free(all);
    return rc;
}

void smoke_caps_print(FILE *f, enum smoke_command cmd)
{
    for (size_t i = 0; i < SMOKE_CAPS; i++)
        if (smoke_caps[i].cmd == cmd)
            fprintf(f, "  %-22s <= %-5ld %s%s\n", smoke_caps[i].key, smoke_caps[i].cap,
                    smoke_caps[i].workload ? "workload.kind = " : "any config",
                    smoke_caps[i].workload ? smoke_caps[i].workload : "");
}
