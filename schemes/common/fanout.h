/* fanout.h: the shared core of `uncoded` and `kofn`: one task of the same
 * cost to every worker, the job done at the `need`-th result. The two
 * schemes differ only in how they choose `need` and the cost, which their
 * own create functions decide; this file does not read any config key. */
#ifndef STRAG_FANOUT_H
#define STRAG_FANOUT_H

#include "schemes/scheme.h"

struct fanout {
    int workers; /* tasks per job, one per worker */
    int need;    /* results that finish a job, 1 <= need <= workers */
    double cost; /* cost of each task */
};

/* Allocates a fanout scheme instance (freed with fanout_free). */
int fanout_new(int workers, int need, double cost, void **self, struct error *err);
size_t fanout_job_state_size(const void *self);
void fanout_job_start(void *self, struct cluster *cl, uint32_t job);
bool fanout_on_result(void *self, struct cluster *cl, const struct cluster_result *r);
void fanout_free(void *self);

#endif
