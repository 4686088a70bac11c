/* registry.c: the list of workloads the driver can name (workload.kind).
 * Adding a workload is its file plus one line here (and the workload.kind
 * choices, which tests/test_config.c checks against this list); nothing
 * here knows what a workload does. */
#include "workloads/workload.h"

#include <string.h>

extern const struct workload_ops workload_latency, workload_inference, workload_training;

const struct workload_ops *const workload_registry[] = {
    &workload_latency,
    &workload_inference,
    &workload_training,
    NULL,
};

const struct workload_ops *workload_find(const char *name)
{
    for (const struct workload_ops *const *w = workload_registry; name && *w; w++)
        if (strcmp((*w)->name, name) == 0)
            return *w;
    return NULL;
}
