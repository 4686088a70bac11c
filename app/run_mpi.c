/* run_mpi.c: the master/worker protocol of run_mpi.h over MPI point-to-point
 * messages. It runs no workload and opens no database itself: run.c's
 * callbacks do. Messages (tags below):
 *
 *   worker -> master  READY   i32 status, then the error line if status != 0,
 *                             else u64 hash of the config text it loaded
 *   master -> worker  POINT   u64 point index
 *   master -> worker  STOP    empty: return
 *   worker -> master  RESULT  u64 point, i32 status, f64 wall, then
 *                             status 0: u64 n, n x (u32 len, name, f64 value),
 *                                       u64 njobs, job_row[njobs],
 *                                       u64 niterations, iteration_row[niterations],
 *                                       u64 ntuner, tuner_row[ntuner]
 *                             status > 0: the error line
 *                             RESULT_SKIPPED: nothing (the worker was signalled)
 *
 * Job and iteration rows travel as the structs' bytes: every rank runs the
 * same executable. Doubles travel as bytes too, so the master writes exactly
 * the bits the worker computed.
 */
#include "app/run_mpi.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_READY = 1, TAG_POINT, TAG_STOP, TAG_RESULT };
enum { RESULT_SKIPPED = -1 };
/* Points queued per worker: one running, one waiting, so a worker never
 * waits for the master while the master runs a point of its own. */
enum { WORKER_DEPTH = 2 };
/* How long a waiting rank sleeps between probes: OpenMPI's blocking calls
 * busy-poll, which would take a core from the rank that shares it. */
static const struct timespec probe_pause = {.tv_sec = 0, .tv_nsec = 200000};

static bool mpi_started;
static int mpi_rank, mpi_size = 1;
/* Rank 0: every worker's READY has been read (run_mpi_gather), or every
 * worker has already been told to stop. */
static bool workers_gathered, workers_released;

int run_mpi_begin(int *argc, char ***argv, struct error *err)
{
    /* Only under a launcher: a plain `stragsim run` never pays MPI's start-up. */
    static const char *const launcher_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                                "PMI_SIZE"};
    bool launched = false;
    for (size_t i = 0; i < sizeof launcher_vars / sizeof launcher_vars[0]; i++)
        launched = launched || getenv(launcher_vars[i]);
    const char *tasks = getenv("SLURM_STEP_NUM_TASKS");
    if (!launched && tasks && atoi(tasks) > 1) /* srun without an MPI plugin */
        return error_fail(err, "stragsim run: srun started %s tasks without MPI; use srun "
                               "--mpi=pmix (or pmi2) so that they share one sweep", tasks);
    if (!launched || mpi_started)
        return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return error_fail(err, "stragsim run: cannot initialise MPI");
    mpi_started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    return 0;
}

void run_mpi_end(void)
{
    if (mpi_started)
        MPI_Finalize();
    mpi_started = workers_gathered = workers_released = false;
    mpi_rank = 0;
    mpi_size = 1;
}

int run_mpi_rank(void) { return mpi_rank; }
int run_mpi_ranks(void) { return mpi_size; }

/* ---- a growable byte buffer, written front to back and read the same way ---- */

struct wire {
    unsigned char *data;
    size_t len, cap, pos; /* pos: read position */
    bool bad;             /* out of memory, or a read past the end */
};

static void wire_put(struct wire *w, const void *p, size_t n)
{
    if (w->bad || n == 0) /* n == 0: p may be NULL (no job rows) */
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        unsigned char *d = realloc(w->data, cap);
        if (!d) {
            w->bad = true;
            return;
        }
        w->data = d;
        w->cap = cap;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

static void wire_get(struct wire *w, void *p, size_t n)
{
    if (n == 0) /* p may be NULL (no job rows) */
        return;
    if (w->bad || n > w->len - w->pos) {
        w->bad = true;
        memset(p, 0, n);
        return;
    }
    memcpy(p, w->data + w->pos, n);
    w->pos += n;
}

static void wire_free(struct wire *w)
{
    free(w->data);
    *w = (struct wire){0};
}

static void wire_put_u64(struct wire *w, uint64_t v) { wire_put(w, &v, sizeof v); }
static void wire_put_i32(struct wire *w, int32_t v) { wire_put(w, &v, sizeof v); }

static uint64_t wire_get_u64(struct wire *w)
{
    uint64_t v;
    wire_get(w, &v, sizeof v);
    return v;
}

static int32_t wire_get_i32(struct wire *w)
{
    int32_t v;
    wire_get(w, &v, sizeof v);
    return v;
}

static void wire_put_text(struct wire *w, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    wire_put(w, &n, sizeof n);
    wire_put(w, s, n);
}

/* Reads a text written by wire_put_text into out (truncated to outlen - 1). */
static void wire_get_text(struct wire *w, char *out, size_t outlen)
{
    uint32_t n;
    wire_get(w, &n, sizeof n);
    if (w->bad || n > w->len - w->pos) {
        w->bad = true;
        out[0] = '\0';
        return;
    }
    size_t keep = n < outlen - 1 ? n : outlen - 1;
    memcpy(out, w->data + w->pos, keep);
    out[keep] = '\0';
    w->pos += n;
}

static void output_put(struct wire *w, const struct workload_output *out)
{
    wire_put_u64(w, out->metrics.n);
    for (size_t i = 0; i < out->metrics.n; i++) {
        wire_put_text(w, out->metrics.names[i]);
        wire_put(w, &out->metrics.values[i], sizeof(double));
    }
    wire_put_u64(w, out->njobs);
    wire_put(w, out->jobs, out->njobs * sizeof *out->jobs);
    wire_put_u64(w, out->niterations);
    wire_put(w, out->iterations, out->niterations * sizeof *out->iterations);
    wire_put_u64(w, out->ntuner);
    wire_put(w, out->tuner, out->ntuner * sizeof *out->tuner);
}

/* Allocates `count` rows of `size` bytes and reads them; false on failure. */
static bool wire_get_rows(struct wire *w, void **rows, uint64_t count, size_t size)
{
    *rows = NULL;
    if (w->bad || count > (w->len - w->pos) / size)
        return !(w->bad = true);
    if (count && !(*rows = malloc(count * size)))
        return !(w->bad = true);
    wire_get(w, *rows, count * size);
    return !w->bad;
}

static bool output_get(struct wire *w, struct workload_output *out)
{
    memset(out, 0, sizeof *out);
    uint64_t n = wire_get_u64(w);
    char name[256];
    for (uint64_t i = 0; i < n && !w->bad; i++) {
        double value;
        wire_get_text(w, name, sizeof name);
        wire_get(w, &value, sizeof value);
        if (!w->bad && metric_list_set(&out->metrics, name, value))
            w->bad = true;
    }
    void *rows;
    out->njobs = wire_get_u64(w);
    if (wire_get_rows(w, &rows, out->njobs, sizeof *out->jobs))
        out->jobs = rows;
    out->niterations = wire_get_u64(w);
    if (wire_get_rows(w, &rows, out->niterations, sizeof *out->iterations))
        out->iterations = rows;
    out->ntuner = wire_get_u64(w);
    if (wire_get_rows(w, &rows, out->ntuner, sizeof *out->tuner))
        out->tuner = rows;
    if (w->bad)
        workload_output_free(out);
    return !w->bad;
}

/* ---- sleeping sends and receives ---- */

static int mpi_send(const struct wire *w, int dest, int tag)
{
    MPI_Request req;
    if (MPI_Isend(w->data, (int)w->len, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    for (int done = 0;;) {
        if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (done)
            return 0;
        nanosleep(&probe_pause, NULL);
    }
}

/* Receives the next message from `source` (or MPI_ANY_SOURCE) into w; with
 * wait false returns 1 at once when none is pending. */
static int mpi_recv(struct wire *w, int source, bool wait, MPI_Status *st)
{
    for (int flag = 0;;) {
        if (MPI_Iprobe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, st) != MPI_SUCCESS)
            return -1;
        if (flag)
            break;
        if (!wait)
            return 1;
        nanosleep(&probe_pause, NULL);
    }
    int count;
    MPI_Get_count(st, MPI_BYTE, &count);
    w->len = w->pos = 0;
    w->bad = false;
    if (count > 0) {
        unsigned char *d = realloc(w->data, (size_t)count);
        if (!d)
            return -1;
        w->data = d;
        w->cap = w->len = (size_t)count;
    }
    return MPI_Recv(w->data, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD,
                    MPI_STATUS_IGNORE) == MPI_SUCCESS
               ? 0
               : -1;
}

/* ---- the master ---- */

struct master {
    const struct run_mpi_ops *ops;
    const size_t *todo;
    size_t front, back;      /* workers take todo[front++], the master todo[--back] */
    int *outstanding;        /* [ranks] points sent and not yet answered */
    int active;              /* workers not yet told to stop */
    int ready;               /* workers heard from */
    bool halt;               /* an error: hand out nothing more */
    int status;              /* the first error */
    struct error *err;
    size_t written;
    struct wire msg;
};

static void master_fail(struct master *m, int status, int rank, const char *msg)
{
    if (!m->status) {
        m->status = status;
        if (rank > 0)
            snprintf(m->err->msg, sizeof m->err->msg, "rank %d: %.1000s", rank, msg);
    }
    m->halt = true;
}

/* Keeps worker `rank` WORKER_DEPTH points deep (one deep when fewer points
 * are left than there are workers, so none sits idle while another holds two
 * in its queue), or stops it when it is idle and nothing is left to hand out. */
static void master_feed(struct master *m, int rank, bool stopping)
{
    for (;;) {
        size_t left = m->back - m->front;
        int depth = left > (size_t)(mpi_size - 1) ? WORKER_DEPTH : 1;
        if (m->halt || stopping || left == 0 || m->outstanding[rank] >= depth)
            break;
        struct wire w = {0};
        wire_put_u64(&w, m->todo[m->front]);
        if (w.bad || mpi_send(&w, rank, TAG_POINT)) {
            wire_free(&w);
            master_fail(m, STRAG_EFAIL, rank, "cannot send a point");
            break;
        }
        wire_free(&w);
        m->front++;
        m->outstanding[rank]++;
    }
    if (m->outstanding[rank] == 0) {
        struct wire w = {0};
        if (mpi_send(&w, rank, TAG_STOP))
            master_fail(m, STRAG_EFAIL, rank, "cannot send stop");
        wire_free(&w);
        m->active--;
    }
}

static void master_on_result(struct master *m, int rank)
{
    struct wire *w = &m->msg;
    size_t point = (size_t)wire_get_u64(w);
    int32_t status = wire_get_i32(w);
    double wall;
    wire_get(w, &wall, sizeof wall);
    m->outstanding[rank]--;
    if (status == RESULT_SKIPPED)
        return;
    if (status != 0) {
        char line[sizeof m->err->msg];
        wire_get_text(w, line, sizeof line);
        master_fail(m, status, rank, line);
        return;
    }
    struct workload_output out;
    if (!output_get(w, &out)) {
        master_fail(m, STRAG_EFAIL, rank, "malformed result message");
        return;
    }
    /* After an error, results still arrive (they were running); none is
     * written past the first failure, as in a single-process run. */
    if (!m->halt) {
        int s = m->ops->write(m->ops->ctx, point, &out, wall, m->err);
        if (s)
            master_fail(m, s, 0, NULL);
        else
            m->written++;
    }
    workload_output_free(&out);
}

/* A worker loaded its config, or says why it could not. */
static void master_on_ready(struct master *m, int rank)
{
    char line[sizeof m->err->msg];
    m->ready++;
    if (wire_get_i32(&m->msg) != 0) {
        wire_get_text(&m->msg, line, sizeof line);
        master_fail(m, STRAG_EINPUT, rank, line);
    } else if (wire_get_u64(&m->msg) != m->ops->config_hash) {
        master_fail(m, STRAG_EINPUT, rank,
                    "loaded another config than rank 0 (is the file the same on every node?)");
    }
}

/* The master's own point: the shortest left, so workers are never kept waiting long. */
static void master_run_one(struct master *m)
{
    size_t point = m->todo[--m->back];
    struct workload_output out;
    double wall;
    int s = m->ops->compute(m->ops->ctx, point, &out, &wall, m->err);
    if (!s) {
        s = m->ops->write(m->ops->ctx, point, &out, wall, m->err);
        workload_output_free(&out);
    }
    if (s)
        master_fail(m, s, 0, NULL);
    else
        m->written++;
}

int run_mpi_gather(const struct run_mpi_ops *ops, struct error *err)
{
    struct master m = {.ops = ops, .active = mpi_size - 1, .err = err};
    while (m.ready < mpi_size - 1) {
        MPI_Status st;
        int flag = 0;
        if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_READY, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS ||
            (flag && mpi_recv(&m.msg, st.MPI_SOURCE, false, &st) < 0)) {
            wire_free(&m.msg);
            return error_fail(err, "MPI receive failed");
        }
        if (flag)
            master_on_ready(&m, st.MPI_SOURCE);
        else
            nanosleep(&probe_pause, NULL);
    }
    workers_gathered = true;
    if (m.status) { /* stop them now: nothing will be handed out */
        m.outstanding = calloc((size_t)mpi_size, sizeof *m.outstanding);
        for (int rank = 1; m.outstanding && rank < mpi_size; rank++)
            master_feed(&m, rank, true);
        workers_released = m.outstanding != NULL;
        free(m.outstanding);
    }
    wire_free(&m.msg);
    return m.status;
}

int run_mpi_master(const struct run_mpi_ops *ops, const size_t *todo, size_t ntodo,
                   volatile sig_atomic_t *stop, bool *stopped, size_t *written,
                   struct error *err)
{
    struct master m = {.ops = ops, .todo = todo, .back = ntodo, .active = mpi_size - 1,
                       .err = err};
    *stopped = false;
    *written = 0;
    if (workers_released)
        return 0;
    if (!(m.outstanding = calloc((size_t)mpi_size, sizeof *m.outstanding)))
        return error_fail(err, "out of memory");
    if (workers_gathered) { /* their READY is read: give each its first points */
        m.ready = mpi_size - 1;
        for (int rank = 1; rank < mpi_size; rank++)
            master_feed(&m, rank, stop && *stop);
    }
    while (m.active > 0 || (!m.halt && m.front < m.back && !(stop && *stop))) {
        bool stopping = stop && *stop;
        MPI_Status st;
        int r = m.active > 0 ? mpi_recv(&m.msg, MPI_ANY_SOURCE, false, &st) : 1;
        bool can_run = !m.halt && !stopping && m.front < m.back && m.ready == mpi_size - 1;
        /* One probe can miss a message that has just arrived (OpenMPI moves
         * it in on a later progress call): before going away for a whole
         * point, look again for a millisecond, or a worker may starve. */
        for (int i = 0; r == 1 && can_run && m.active > 0 && i < 20; i++) {
            nanosleep(&(struct timespec){.tv_nsec = 50000}, NULL);
            r = mpi_recv(&m.msg, MPI_ANY_SOURCE, false, &st);
        }
        if (r < 0) {
            master_fail(&m, m.status ? m.status : error_fail(err, "MPI receive failed"), 0, NULL);
            break; /* MPI itself is broken: nothing more can be said to anyone */
        }
        if (r == 0) {
            int rank = st.MPI_SOURCE;
            if (st.MPI_TAG == TAG_READY) {
                master_on_ready(&m, rank);
            } else if (st.MPI_TAG == TAG_RESULT) {
                master_on_result(&m, rank);
            }
            master_feed(&m, rank, stopping);
        } else if (can_run) { /* only once every worker has its first points */
            master_run_one(&m);
        } else {
            nanosleep(&probe_pause, NULL);
        }
    }
    workers_released = true;
    *stopped = stop && *stop && !m.status && m.written < ntodo;
    *written = m.written;
    free(m.outstanding);
    wire_free(&m.msg);
    return m.status;
}

/* ---- a worker ---- */

int run_mpi_worker(const struct run_mpi_ops *ops, int ready, const struct error *ready_err,
                   volatile sig_atomic_t *stop)
{
    struct wire w = {0}, in = {0};
    wire_put_i32(&w, ready);
    if (ready)
        wire_put_text(&w, ready_err->msg);
    else
        wire_put_u64(&w, ops->config_hash);
    int status = mpi_send(&w, 0, TAG_READY);
    for (MPI_Status st; !status;) {
        if ((status = mpi_recv(&in, 0, true, &st)) || st.MPI_TAG == TAG_STOP)
            break;
        size_t point = (size_t)wire_get_u64(&in);
        struct workload_output out;
        struct error err;
        double wall = 0;
        int s = stop && *stop ? RESULT_SKIPPED : ops->compute(ops->ctx, point, &out, &wall, &err);
        w.len = 0;
        wire_put_u64(&w, point);
        wire_put_i32(&w, s);
        wire_put(&w, &wall, sizeof wall);
        if (s == 0) {
            output_put(&w, &out);
            workload_output_free(&out);
        } else if (s > 0) {
            wire_put_text(&w, err.msg);
        }
        status = w.bad ? -1 : mpi_send(&w, 0, TAG_RESULT);
    }
    wire_free(&w);
    wire_free(&in);
    return status ? STRAG_EFAIL : 0;
}
