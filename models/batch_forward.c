/* batch_forward.c: fixed-cut batched forward passes over a team of threads
 * (see batch_forward.h). The cut depends on the row count alone; threads
 * only decide who computes a batch, never what it holds. */
#include "models/batch_forward.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "models/weights.h"

struct member {
    struct batch_forward *team;
    struct model *m;  /* member 0's is the caller's model */
    int rc;           /* its first error */
    struct error err;
};

struct batch_forward {
    int n;                  /* members (threads) */
    struct member *members;
    pthread_t *threads;
    /* the call being run */
    const float *x;
    float *out;
    size_t rows, batch, batches;
    atomic_size_t next;     /* next batch to take */
};

void batch_forward_free(struct batch_forward *bf)
{
    if (!bf)
        return;
    for (int i = 1; bf->members && i < bf->n; i++)
        model_free(bf->members[i].m);
    free(bf->members);
    free(bf->threads);
    free(bf);
}

int batch_forward_new(struct batch_forward **out, struct model *m, int threads,
                      struct error *err)
{
    *out = NULL;
    int n = threads < 1 ? 1 : threads;
    struct batch_forward *bf = calloc(1, sizeof *bf);
    if (!bf || !(bf->members = calloc((size_t)n, sizeof *bf->members)) ||
        !(bf->threads = calloc((size_t)n, sizeof *bf->threads))) {
        batch_forward_free(bf);
        return error_fail(err, "out of memory for %d forward threads", n);
    }
    bf->members[0] = (struct member){.team = bf, .m = m};
    bf->n = 1;
    int rc = model_reserve(m, BATCH_FORWARD_ROWS, err);
    for (; !rc && bf->n < n; bf->n++) {
        struct member *w = &bf->members[bf->n];
        *w = (struct member){.team = bf};
        rc = model_new(&w->m, weights_arch(m), err);
        if (!rc) {
            memcpy(w->m->params, m->params, m->nparams * sizeof *m->params);
            rc = model_reserve(w->m, BATCH_FORWARD_ROWS, err);
        }
    }
    if (rc) {
        batch_forward_free(bf);
        return rc;
    }
    *out = bf;
    return STRAG_OK;
}

/* A member's loop: take batches until none is left (or it failed). */
static void *member_run(void *arg)
{
    struct member *w = arg;
    struct batch_forward *bf = w->team;
    const struct model *m = w->m;
    size_t b;
    while (!w->rc && (b = atomic_fetch_add(&bf->next, 1)) < bf->batches) {
        size_t first = b * bf->batch;
        int B = (int)(bf->rows - first < bf->batch ? bf->rows - first : bf->batch);
        const float *logits;
        w->rc = model_infer(w->m, bf->x + first * (size_t)m->input_size, B, &logits, &w->err);
        if (!w->rc)
            memcpy(bf->out + first * (size_t)m->outputs, logits,
                   (size_t)B * (size_t)m->outputs * sizeof *logits);
    }
    return NULL;
}

int batch_forward_run(struct batch_forward *bf, const float *x, size_t rows, int batch,
                      float *out, struct error *err)
{
    if (batch < 1 || batch > BATCH_FORWARD_ROWS) /* the replicas hold batches up to this */
        return error_fail(err, "internal: forward batch %d outside 1..%d", batch,
                          BATCH_FORWARD_ROWS);
    bf->x = x;
    bf->out = out;
    bf->rows = rows;
    bf->batch = (size_t)batch;
    bf->batches = (rows + bf->batch - 1) / bf->batch;
    atomic_store(&bf->next, 0);
    int n = bf->batches < (size_t)bf->n ? (int)bf->batches : bf->n;
    bool *spawned = NULL;
    if (n > 1 && !(spawned = calloc((size_t)n, sizeof *spawned)))
        n = 1; /* no room to track threads: run every batch here */
    for (int i = 0; i < n; i++)
        bf->members[i].rc = 0;
    for (int i = 1; i < n; i++) /* a thread that cannot start leaves its share to the others */
        spawned[i] = pthread_create(&bf->threads[i], NULL, member_run, &bf->members[i]) == 0;
    member_run(&bf->members[0]);
    for (int i = 1; i < n; i++)
        if (spawned[i])
            pthread_join(bf->threads[i], NULL);
    free(spawned);
    for (int i = 0; i < n; i++)
        if (bf->members[i].rc) {
            *err = bf->members[i].err;
            return bf->members[i].rc;
        }
    return STRAG_OK;
}

int blas_threads_set(int threads)
{
    int before = openblas_get_num_threads();
    openblas_set_num_threads(threads);
    return before;
}
