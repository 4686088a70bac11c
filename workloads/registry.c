/* registry.c: the list of workloads the driver can name (workload.kind),
 * and the workload.kind choices built from it. Adding a workload is its
 * file plus one line here; nothing here knows what a workload does. */
#include "workloads/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct workload_ops workload_latency, workload_inference, workload_training,
    workload_pipeline;

const struct workload_ops *const workload_registry[] = {
    &workload_latency,
    &workload_inference,
    &workload_training,
    &workload_pipeline,
    NULL,
};

const struct workload_ops *workload_find(const char *name)
{
    for (const struct workload_ops *const *w = workload_registry; name && *w; w++)
        if (strcmp((*w)->name, name) == 0)
            return *w;
    return NULL;
}

char workload_kind_choices[256];

/* Fills workload_kind_choices at load time, so the key table can point at
 * it; a registry that does not fit is a programming error caught by any
 * test. */
__attribute__((constructor)) static void workload_choices_fill(void)
{
    size_t used = 0;
    for (const struct workload_ops *const *w = workload_registry; *w; w++) {
        int n = snprintf(workload_kind_choices + used, sizeof workload_kind_choices - used, "%s%s",
                         used ? "|" : "", (*w)->name);
        if (n < 0 || (size_t)n >= sizeof workload_kind_choices - used)
            abort();
        used += (size_t)n;
    }
}
