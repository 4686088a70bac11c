/* fanout.c: send one task to every worker, finish at the need-th result
 * (see fanout.h). Cancelling the tasks still out is the cluster's job when
 * the driver finishes the job. */
#include "schemes/common/fanout.h"

#include <stdlib.h>

struct fanout_job {
    int results; /* results received so far */
};

int fanout_new(int workers, int need, double cost, void **self, struct error *err)
{
    struct fanout *f = malloc(sizeof *f);
    if (!f)
        return error_fail(err, "out of memory");
    *f = (struct fanout){.workers = workers, .need = need, .cost = cost};
    *self = f;
    return STRAG_OK;
}

size_t fanout_job_state_size(const void *self)
{
    (void)self;
    return sizeof(struct fanout_job);
}

void fanout_job_start(void *self, struct cluster *cl, uint32_t job)
{
    const struct fanout *f = self;
    cluster_submit_fanout(cl, job, f->workers, f->cost);
}

bool fanout_on_result(void *self, struct cluster *cl, const struct cluster_result *r)
{
    const struct fanout *f = self;
    struct fanout_job *s = cluster_job_state(cl, r->job);
    return ++s->results >= f->need;
}

void fanout_free(void *self) { free(self); }
