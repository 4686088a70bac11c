/* cluster.c: the cluster model (sim/cluster.h) on top of the event engine:
 * workers as FIFO servers with parallel slots, tasks travelling to them and
 * results travelling back over a fixed one-way delay, jobs that group tasks,
 * cancellation, timers and the idle hook. It knows nothing about schemes,
 * and draws no random numbers but the i.i.d. shifted exponential durations
 * a caller hands it (cluster_use_shifted_exp; otherwise the duration hook
 * draws). Measured on kofn-queue (20 alternating pairs of `stragsim run
 * configs/bench-kofn-queue.ini`, CPU time, 2026-12-03, load 1-3): drawing
 * here instead of through the hook, before/after 1.058 (95% interval 1.016
 * to 1.102), 280 instructions less per job; the branch-free walk of
 * cluster_job_finish 1.028 (1.003 to 1.053); a job's fan-out sent by one
 * cluster_submit_fanout instead of a cluster_submit per task (the checks
 * once, not per task: 584.6 M instructions for 10^5 jobs became 567.5 M;
 * 30 pairs 1.015, 1.006 to 1.024). Dropped: worker FIFOs as
 * rings of (task, generation) entries instead of linked lists (fewer
 * branches on an empty FIFO, but more instructions: 0.953, 0.928 to
 * 0.978), unit draws taken 16 at a time per worker, and worker_start
 * forced inline into its callers (622.6 M instructions for 10^5 jobs
 * became 673.7 M).
 *
 * Memory: tasks, jobs and timers live in arrays that grow by doubling and
 * recycle entries through freelists, so the steady state allocates nothing.
 * Per-job scratch lives in fixed chunks of JOB_CHUNK jobs, so a pointer from
 * cluster_job_state stays valid while other jobs open. Handles are indices.
 *
 * Lists, all intrusive (links are task indices, NONE ends a list):
 * - each worker's FIFO of queued tasks (doubly linked: cancelling a queued
 *   task unlinks it in O(1));
 * - each job's tasks in submission order (singly linked, head and tail);
 *   finishing a job walks it, nothing else walks anything.
 *
 * Completions: each worker slot owns one engine timer (engine.h), set when
 * a task starts in that slot and cancelled at once when the task is
 * preempted, so a cancelled task leaves no stale completion behind.
 * Arrivals, results and job timers are heap events that carry the
 * generation of the task (or job, for timers) they were scheduled for;
 * cancelling or freeing bumps the generation, so the event is ignored when
 * it fires. A task has at most one pending event (arrival, completion or
 * result).
 *
 * Cancellation takes effect at the worker at once, not after the network
 * delay: the cancel message is modelled as free and instant, the usual
 * assumption of the redundancy literature ("extra copies are removed
 * instantly"). A cancel that travelled would keep each preempted slot busy
 * for one more delay; here the slot is busy until the cancellation instant,
 * and that time counts in worker_seconds.
 *
 * With cfg.cancel false, finishing a job leaves its travelling, queued and
 * running tasks to run to completion (their slots busy, their results
 * dropped); the job's handle is recycled once the last of them completes,
 * so they keep seeing their job's index in the duration hook.
 */
#include "sim/cluster.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

enum {
    JOB_CHUNK = 64,         /* jobs per scratch chunk */
    STATE_ALIGN = 16,       /* scratch stride alignment (max_align_t) */
    INITIAL_CAPACITY = 64,
    OUT_BATCH = 32,         /* outstanding tasks cluster_job_finish drops at a time */
};

enum task_state {
    TASK_FREE,       /* 0: cluster_job_finish clears a state with a mask */
    TASK_TRAVELLING, /* on its way to the worker */
    TASK_QUEUED,     /* in the worker's FIFO */
    TASK_RUNNING,
    TASK_RETURNING,  /* done; result on its way to the master */
    TASK_DONE,       /* result delivered (or job closed) */
    TASK_CANCELLED,  /* cancelled by cluster_task_cancel, still on its job's list */
    TASK_PREEMPTED,  /* being cancelled by cluster_job_finish (transient) */
};

/* The states of a task still on a worker or on its way to one, as a mask. */
#define OUTSTANDING_STATES ((1u << TASK_TRAVELLING) | (1u << TASK_QUEUED) | (1u << TASK_RUNNING))

struct task {
    double cost, submitted, started, finished;
    uint32_t gen;
    uint32_t job;
    uint32_t job_next;   /* next task of the job; next free task when free */
    uint32_t queue_next; /* worker FIFO link, while queued */
    union {              /* a task is queued or running, never both */
        uint32_t queue_prev; /* while queued: the FIFO's back link */
        uint32_t slot;       /* while running: its slot, worker * cfg.slots + i */
    };
    int32_t worker;
    int32_t tag;
    uint8_t state;       /* enum task_state */
};
/* 64 bytes: one cache line, and a task's index scales by a shift */
_Static_assert(sizeof(struct task) == 64, "struct task is no longer 64 bytes");

struct job {
    uint64_t index;      /* arrival ordinal */
    double opened;
    uint32_t gen;        /* bumped at finish: drops the job's timers */
    uint32_t first, last; /* the job's task list */
    uint32_t next_free;
    uint32_t leftover;   /* tasks still running after finish (cancel = false) */
    bool open;
};

struct timer {
    uint32_t job;
    int32_t tag;         /* next free timer when free */
};

struct worker {
    uint32_t head, tail; /* FIFO of queued tasks */
    int queued, running;
    int load;            /* travelling to it + queued + running */
};

struct cluster {
    struct engine *engine;
    struct cluster_config cfg;
    struct cluster_hooks hooks;
    int kind_arrive, kind_complete, kind_result, kind_timer, kind_idle;

    struct worker *workers; /* [cfg.workers] */
    uint32_t *slot_task;    /* [cfg.workers * cfg.slots]: the task running in each slot, or NONE */
    uint32_t timer_base;    /* engine timer of slot i: timer_base + i */

    struct task *tasks;     /* [task_capacity] */
    uint32_t task_count, task_capacity, free_task;

    struct job *jobs;       /* [job_capacity] */
    uint32_t job_count, job_capacity, free_job;
    unsigned char **state_chunks; /* [job_capacity / JOB_CHUNK] chunks of JOB_CHUNK * stride */
    size_t state_stride;

    /* cluster_use_shifted_exp: durations drawn here, not by hooks.duration */
    double *ahead;          /* [cfg.workers]: each worker's next unit draw, or NULL */
    double shift, rate;
    struct rng *streams;    /* [cfg.workers], the caller's */

    struct timer *timers;   /* [timer_capacity] */
    uint32_t timer_count, timer_capacity, free_timer;

    uint64_t active;        /* tasks travelling to, queued at or running on workers */
    bool in_handler;        /* inside one of the cluster's own event handlers */
    bool idle_due;          /* the cluster emptied during the current handler */
    bool idle_scheduled;    /* an idle event is pending */
    bool failed;            /* an allocation failed inside an event: the run is void */
    double worker_seconds;
};

/* Doubles an array of `size`-byte elements to hold at least `need`. */
static int array_reserve(void **array, uint32_t *capacity, uint32_t need, size_t size)
{
    if (need <= *capacity)
        return 0;
    uint32_t grown = *capacity ? *capacity : INITIAL_CAPACITY;
    while (grown < need) {
        if (grown > UINT32_MAX / 4) /* handles stay below NONE */
            return -1;
        grown *= 2;
    }
    void *p = realloc(*array, (size_t)grown * size);
    if (!p)
        return -1;
    *array = p;
    *capacity = grown;
    return 0;
}

/* Inside an event handler there is nobody to return an error to, and a
 * scheme's job_start has no status to give: remember it and stop the run;
 * the next cluster_job_open / cluster_submit fails and the driver reports
 * the run as failed (cluster_failed). */
static void cluster_fail(struct cluster *cl)
{
    cl->failed = true;
    engine_stop(cl->engine);
}

static void cluster_schedule(struct cluster *cl, double time, int kind, uint32_t arg, uint32_t gen)
{
    if (engine_schedule(cl->engine, time, kind, arg, gen) != 0)
        cluster_fail(cl);
}

/* ---- tasks ---- */

/* A task record for a submit, or NONE when memory ran out: then the cluster
 * has failed, since a job short of a task would give wrong numbers. */
static uint32_t task_alloc(struct cluster *cl)
{
    uint32_t t = cl->free_task;
    if (t != NONE) {
        cl->free_task = cl->tasks[t].job_next;
        return t;
    }
    if (array_reserve((void **)&cl->tasks, &cl->task_capacity, cl->task_count + 1,
                      sizeof *cl->tasks) != 0) {
        cluster_fail(cl);
        return NONE;
    }
    t = cl->task_count++;
    cl->tasks[t].gen = 0;
    return t;
}

static void task_release(struct cluster *cl, uint32_t t)
{
    struct task *task = &cl->tasks[t];
    task->gen++;
    task->state = TASK_FREE;
    task->job_next = cl->free_task;
    cl->free_task = t;
}

/* ---- the idle hook ---- */

/* The idle hook may open jobs and submit, which must not happen in the
 * middle of a cancellation walk: it is deferred to the end of the cluster
 * handler that is running (handler_exit), or, when the cluster emptied from
 * outside its handlers, to an event of its own at the current time. */
static void cluster_note_idle(struct cluster *cl)
{
    if (cl->active != 0 || !cl->hooks.idle)
        return;
    if (cl->in_handler) {
        cl->idle_due = true;
    } else if (!cl->idle_scheduled) {
        cl->idle_scheduled = true;
        cluster_schedule(cl, engine_now(cl->engine), cl->kind_idle, 0, 0);
    }
}

static void handler_enter(struct cluster *cl) { cl->in_handler = true; }

static void handler_exit(struct cluster *cl)
{
    cl->in_handler = false;
    if (cl->idle_due) {
        cl->idle_due = false;
        if (cl->active == 0)
            cl->hooks.idle(cl->hooks.ctx, cl);
    }
}

/* ---- workers ---- */

/* `now` is engine_now(), passed down by the public entry point that got it. */
static void worker_start(struct cluster *cl, uint32_t t, double now)
{
    struct task *task = &cl->tasks[t];
    struct worker *w = &cl->workers[task->worker];
    double d;
    if (cl->ahead) {
        double unit = cl->ahead[task->worker];
        cl->ahead[task->worker] = cl->shift + rng_exp(&cl->streams[task->worker], cl->rate);
        d = task->cost * unit;
    } else {
        d = cl->hooks.duration(cl->hooks.ctx, task->worker, cl->jobs[task->job].index, task->cost);
        task = &cl->tasks[t]; /* the hook does not submit, but stay safe */
    }
    task->state = TASK_RUNNING;
    task->started = now;
    task->finished = now + (d > 0 ? d : 0);
    w->running++;
    uint32_t slot = (uint32_t)task->worker * (uint32_t)cl->cfg.slots;
    while (cl->slot_task[slot] != NONE) /* a free one exists: running < slots */
        slot++;
    cl->slot_task[slot] = t;
    task->slot = slot;
    if (engine_timer_set(cl->engine, cl->timer_base + slot, task->finished, cl->kind_complete, t,
                         task->gen) != 0)
        cluster_fail(cl);
}

/* Starts queued tasks while slots are free. */
static void worker_fill(struct cluster *cl, int worker, double now)
{
    struct worker *w = &cl->workers[worker];
    while (w->running < cl->cfg.slots && w->head != NONE) {
        uint32_t t = w->head;
        w->head = cl->tasks[t].queue_next;
        if (w->head != NONE)
            cl->tasks[w->head].queue_prev = NONE;
        else
            w->tail = NONE;
        w->queued--;
        worker_start(cl, t, now);
    }
}

/* A task reaches its worker: start it if a slot is free and nobody waits. */
static void worker_accept(struct cluster *cl, uint32_t t, double now)
{
    struct task *task = &cl->tasks[t];
    struct worker *w = &cl->workers[task->worker];
    if (w->running < cl->cfg.slots && w->head == NONE) {
        worker_start(cl, t, now);
        return;
    }
    task->state = TASK_QUEUED;
    task->queue_next = NONE;
    task->queue_prev = w->tail;
    if (w->tail != NONE)
        cl->tasks[w->tail].queue_next = t;
    else
        w->head = t;
    w->tail = t;
    w->queued++;
}

static void worker_unlink(struct cluster *cl, uint32_t t)
{
    struct task *task = &cl->tasks[t];
    struct worker *w = &cl->workers[task->worker];
    if (task->queue_prev != NONE)
        cl->tasks[task->queue_prev].queue_next = task->queue_next;
    else
        w->head = task->queue_next;
    if (task->queue_next != NONE)
        cl->tasks[task->queue_next].queue_prev = task->queue_prev;
    else
        w->tail = task->queue_prev;
    w->queued--;
}

/* Takes a travelling, queued or running task off its worker (not yet
 * refilling the freed slot). Returns true when a slot was freed. */
static bool worker_drop(struct cluster *cl, uint32_t t, double now)
{
    struct task *task = &cl->tasks[t];
    bool freed_slot = task->state == TASK_RUNNING;
    if (task->state == TASK_QUEUED)
        worker_unlink(cl, t);
    if (freed_slot) {
        cl->worker_seconds += now - task->started;
        cl->workers[task->worker].running--;
        cl->slot_task[task->slot] = NONE;
        engine_timer_cancel(cl->engine, cl->timer_base + task->slot);
    }
    cl->workers[task->worker].load--;
    cl->active--;
    task->gen++; /* its arrival event, if any, is now stale */
    return freed_slot;
}

/* ---- jobs ---- */

static void job_release(struct cluster *cl, uint32_t job)
{
    cl->jobs[job].next_free = cl->free_job;
    cl->free_job = job;
}

static void deliver_result(struct cluster *cl, uint32_t t)
{
    const struct task *task = &cl->tasks[t];
    struct cluster_result r = {
        .job = task->job,
        .task = t,
        .worker = task->worker,
        .tag = task->tag,
        .cost = task->cost,
        .submitted = task->submitted,
        .started = task->started,
        .finished = task->finished,
    };
    cl->tasks[t].state = TASK_DONE;
    if (cl->hooks.result)
        cl->hooks.result(cl->hooks.ctx, cl, &r);
}

/* ---- event handlers ---- */

static void on_arrive(struct engine *e, void *ctx, uint32_t t, uint32_t gen)
{
    struct cluster *cl = ctx;
    if (cl->tasks[t].gen != gen)
        return;
    worker_accept(cl, t, engine_now(e));
}

static void on_complete(struct engine *e, void *ctx, uint32_t t, uint32_t gen)
{
    (void)e;
    struct cluster *cl = ctx;
    struct task *task = &cl->tasks[t]; /* never stale: preemption cancels the timer */
    handler_enter(cl);
    int worker = task->worker;
    struct worker *w = &cl->workers[worker];
    double now = task->finished; /* == engine_now(e) */
    cl->worker_seconds += now - task->started;
    cl->slot_task[task->slot] = NONE;
    w->running--;
    w->load--;
    cl->active--;
    struct job *job = &cl->jobs[task->job];
    if (!job->open) {
        /* left running after its job finished (cancel = false): drop it */
        uint32_t handle = task->job;
        task_release(cl, t);
        if (--job->leftover == 0)
            job_release(cl, handle);
    } else if (cl->cfg.network_delay > 0) {
        task->state = TASK_RETURNING;
        cluster_schedule(cl, now + cl->cfg.network_delay, cl->kind_result, t, gen);
    } else {
        /* Result first, then refill: if it finishes the job, the job's
         * queued tasks on this worker are gone before the slot is refilled. */
        deliver_result(cl, t);
    }
    worker_fill(cl, worker, now);
    cluster_note_idle(cl);
    handler_exit(cl);
}

static void on_result(struct engine *e, void *ctx, uint32_t t, uint32_t gen)
{
    (void)e;
    struct cluster *cl = ctx;
    if (cl->tasks[t].gen != gen)
        return;
    handler_enter(cl);
    deliver_result(cl, t);
    handler_exit(cl);
}

static void on_timer(struct engine *e, void *ctx, uint32_t timer, uint32_t gen)
{
    (void)e;
    struct cluster *cl = ctx;
    uint32_t job = cl->timers[timer].job;
    int tag = cl->timers[timer].tag;
    cl->timers[timer].tag = (int32_t)cl->free_timer;
    cl->free_timer = timer;
    if (cl->jobs[job].open && cl->jobs[job].gen == gen && cl->hooks.timer) {
        handler_enter(cl);
        cl->hooks.timer(cl->hooks.ctx, cl, job, tag);
        handler_exit(cl);
    }
}

static void on_idle(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)e, (void)arg, (void)gen;
    struct cluster *cl = ctx;
    cl->idle_scheduled = false;
    if (cl->active == 0)
        cl->hooks.idle(cl->hooks.ctx, cl);
}

/* ---- public API ---- */

struct cluster *cluster_new(struct engine *e, const struct cluster_config *cfg,
                            const struct cluster_hooks *hooks)
{
    if (cfg->workers < 1 || cfg->slots < 1 || !(cfg->network_delay >= 0) || !hooks->duration)
        return NULL;
    struct cluster *cl = calloc(1, sizeof *cl);
    if (!cl)
        return NULL;
    cl->engine = e;
    cl->cfg = *cfg;
    cl->hooks = *hooks;
    cl->free_task = cl->free_job = cl->free_timer = NONE;
    cl->state_stride = (cfg->job_state_bytes + STATE_ALIGN - 1) / STATE_ALIGN * STATE_ALIGN;
    cl->workers = malloc((size_t)cfg->workers * sizeof *cl->workers);
    size_t nslots = (size_t)cfg->workers * (size_t)cfg->slots;
    int64_t timer_base = nslots <= UINT32_MAX / 4 ? engine_timers_add(e, (uint32_t)nslots) : -1;
    cl->slot_task = timer_base >= 0 ? malloc(nslots * sizeof *cl->slot_task) : NULL;
    if (!cl->workers || !cl->slot_task) {
        cluster_free(cl);
        return NULL;
    }
    /* five handler kinds; with a full table the engine is left with kinds
     * nobody schedules, and cluster_new fails */
    cl->kind_arrive = engine_register(e, on_arrive, cl);
    cl->kind_complete = engine_register(e, on_complete, cl);
    cl->kind_result = engine_register(e, on_result, cl);
    cl->kind_timer = engine_register(e, on_timer, cl);
    cl->kind_idle = engine_register(e, on_idle, cl);
    if (cl->kind_idle < 0) {
        cluster_free(cl);
        return NULL;
    }
    for (int i = 0; i < cfg->workers; i++)
        cl->workers[i] = (struct worker){.head = NONE, .tail = NONE};
    for (size_t i = 0; i < nslots; i++)
        cl->slot_task[i] = NONE;
    cl->timer_base = (uint32_t)timer_base;
    return cl;
}

void cluster_free(struct cluster *cl)
{
    if (!cl)
        return;
    for (uint32_t c = 0; cl->state_chunks && c < cl->job_capacity / JOB_CHUNK; c++)
        free(cl->state_chunks[c]);
    free(cl->state_chunks);
    free(cl->workers);
    free(cl->slot_task);
    free(cl->ahead);
    free(cl->tasks);
    free(cl->jobs);
    free(cl->timers);
    free(cl);
}

/* Makes room for one more job record and, when the capacity grows, for the
 * scratch chunks of the new records (capacities are multiples of JOB_CHUNK:
 * INITIAL_CAPACITY doubled). */
static int job_grow(struct cluster *cl)
{
    uint32_t capacity = cl->job_capacity, first_new = cl->job_capacity / JOB_CHUNK;
    if (array_reserve((void **)&cl->jobs, &capacity, cl->job_count + 1, sizeof *cl->jobs) != 0)
        return -1;
    if (capacity == cl->job_capacity)
        return 0;
    if (cl->state_stride > 0) {
        unsigned char **chunks = realloc(cl->state_chunks, capacity / JOB_CHUNK * sizeof *chunks);
        if (!chunks)
            return -1;
        cl->state_chunks = chunks;
        for (uint32_t c = first_new; c < capacity / JOB_CHUNK; c++) {
            chunks[c] = aligned_alloc(STATE_ALIGN, JOB_CHUNK * cl->state_stride);
            if (!chunks[c]) {
                while (c-- > first_new)
                    free(chunks[c]);
                return -1;
            }
        }
    }
    cl->job_capacity = capacity;
    return 0;
}

uint32_t cluster_job_open(struct cluster *cl, uint64_t job_index)
{
    if (cl->failed)
        return NONE;
    uint32_t h = cl->free_job;
    if (h != NONE) {
        cl->free_job = cl->jobs[h].next_free;
    } else {
        if (job_grow(cl) != 0)
            return NONE;
        h = cl->job_count++;
        cl->jobs[h].gen = 0;
    }
    struct job *job = &cl->jobs[h];
    job->index = job_index;
    job->opened = engine_now(cl->engine);
    job->first = job->last = NONE;
    job->leftover = 0;
    job->open = true;
    if (cl->state_stride == STATE_ALIGN) /* the usual few counters: no call to memset */
        memset(cluster_job_state(cl, h), 0, STATE_ALIGN);
    else if (cl->state_stride > 0)
        memset(cluster_job_state(cl, h), 0, cl->cfg.job_state_bytes);
    return h;
}

uint64_t cluster_job_index(const struct cluster *cl, uint32_t job) { return cl->jobs[job].index; }

double cluster_job_opened_at(const struct cluster *cl, uint32_t job) { return cl->jobs[job].opened; }

void *cluster_job_state(struct cluster *cl, uint32_t job)
{
    if (cl->state_stride == 0)
        return NULL;
    return cl->state_chunks[job / JOB_CHUNK] + (size_t)(job % JOB_CHUNK) * cl->state_stride;
}

/* Pass 2 of cluster_job_finish: takes a finishing job's outstanding tasks
 * off their workers without refilling any slot, so a worker never starts a
 * task of this very job only to preempt it a moment later; preempted ones
 * go on the side list *preempted for pass 3. Without cancellation they run
 * on (on_complete drops them). */
static void job_drop_outstanding(struct cluster *cl, struct job *job, const uint32_t *tasks,
                                 unsigned n, double now, uint32_t *preempted)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t t = tasks[i];
        struct task *task = &cl->tasks[t];
        if (!cl->cfg.cancel) {
            job->leftover++;
        } else if (worker_drop(cl, t, now)) {
            task->state = TASK_PREEMPTED;
            task->job_next = *preempted;
            *preempted = t;
        } else {
            task_release(cl, t);
        }
    }
}

void cluster_job_finish(struct cluster *cl, uint32_t handle)
{
    struct job *job = &cl->jobs[handle];
    if (!job->open)
        return;
    job->open = false;
    job->gen++;
    double now = engine_now(cl->engine);
    /* Pass 1 returns the job's finished tasks to the free list and collects
     * its outstanding ones (travelling, queued, running) in submission
     * order, OUT_BATCH at a time. Which tasks are still out is random (those
     * of the slowest workers), so the walk picks by selects, not branches:
     * a mispredicted branch per outstanding task cost more than the walk. */
    uint32_t out_tasks[OUT_BATCH], preempted = NONE;
    unsigned n_out = 0;
    uint32_t free_task = cl->free_task;
    for (uint32_t t = job->first, next; t != NONE; t = next) {
        struct task *task = &cl->tasks[t];
        next = task->job_next;
        uint8_t state = task->state;
        uint32_t out = 0u - ((OUTSTANDING_STATES >> state) & 1); /* all ones when outstanding */
        __asm__("" : "+r"(out)); /* opaque to GCC, which would branch on it again */
        task->job_next = free_task; /* as task_release, or rewritten by pass 2 */
        free_task = (free_task & out) | (t & ~out);
        task->gen += ~out & 1;
        task->state = (uint8_t)(state & out); /* or TASK_FREE, 0 */
        out_tasks[n_out] = t;
        n_out += out & 1;
        if (n_out == OUT_BATCH) {
            cl->free_task = free_task;
            job_drop_outstanding(cl, job, out_tasks, n_out, now, &preempted);
            free_task = cl->free_task;
            n_out = 0;
        }
    }
    cl->free_task = free_task;
    job_drop_outstanding(cl, job, out_tasks, n_out, now, &preempted);
    /* Pass 3: the freed slots move on to their next queued task. */
    for (uint32_t t = preempted, next; t != NONE; t = next) {
        next = cl->tasks[t].job_next;
        int worker = cl->tasks[t].worker;
        task_release(cl, t);
        worker_fill(cl, worker, now);
    }
    job->first = job->last = NONE;
    if (job->leftover == 0)
        job_release(cl, handle);
    cluster_note_idle(cl);
}

/* Fills in new task t of open job `job` and sends it on its way to `worker`. */
static inline void task_send(struct cluster *cl, uint32_t job, uint32_t t, int worker,
                             double cost, int tag, double now)
{
    struct task *task = &cl->tasks[t];
    task->cost = cost;
    task->submitted = now;
    task->started = task->finished = 0;
    task->job = job;
    task->job_next = NONE;
    task->worker = worker;
    task->tag = tag;
    struct job *j = &cl->jobs[job];
    if (j->last != NONE)
        cl->tasks[j->last].job_next = t;
    else
        j->first = t;
    j->last = t;
    cl->workers[worker].load++;
    cl->active++;
    if (cl->cfg.network_delay > 0) {
        task->state = TASK_TRAVELLING;
        cluster_schedule(cl, now + cl->cfg.network_delay, cl->kind_arrive, t, task->gen);
    } else {
        worker_accept(cl, t, now);
    }
}

/* Whether `job` may take tasks: an open job of a cluster that has not failed. */
static bool submit_ok(const struct cluster *cl, uint32_t job)
{
    return !cl->failed && job < cl->job_count && cl->jobs[job].open;
}

uint32_t cluster_submit(struct cluster *cl, uint32_t job, int worker, double cost, int tag)
{
    if (!submit_ok(cl, job) || (unsigned)worker >= (unsigned)cl->cfg.workers)
        return NONE;
    uint32_t t = task_alloc(cl);
    if (t == NONE)
        return NONE;
    task_send(cl, job, t, worker, cost, tag, engine_now(cl->engine));
    return cl->failed ? NONE : t;
}

int cluster_submit_fanout(struct cluster *cl, uint32_t job, int n, double cost)
{
    if (!submit_ok(cl, job) || (unsigned)n > (unsigned)cl->cfg.workers)
        return -1;
    double now = engine_now(cl->engine);
    for (int w = 0; w < n; w++) {
        uint32_t t = task_alloc(cl);
        if (t == NONE)
            return -1;
        task_send(cl, job, t, w, cost, w, now);
    }
    return cl->failed ? -1 : 0;
}

void cluster_task_cancel(struct cluster *cl, uint32_t t)
{
    if (t >= cl->task_count)
        return;
    struct task *task = &cl->tasks[t];
    if (task->state != TASK_TRAVELLING && task->state != TASK_QUEUED &&
        task->state != TASK_RUNNING)
        return;
    if (!cl->jobs[task->job].open)
        return; /* left running after its job finished: not the caller's any more */
    double now = engine_now(cl->engine);
    bool freed_slot = worker_drop(cl, t, now);
    task->state = TASK_CANCELLED;
    if (freed_slot)
        worker_fill(cl, task->worker, now);
    cluster_note_idle(cl);
}

void cluster_timer(struct cluster *cl, uint32_t job, double delay, int tag)
{
    if (job >= cl->job_count || !cl->jobs[job].open)
        return;
    uint32_t timer = cl->free_timer;
    if (timer != NONE) {
        cl->free_timer = (uint32_t)cl->timers[timer].tag;
    } else {
        if (array_reserve((void **)&cl->timers, &cl->timer_capacity, cl->timer_count + 1,
                          sizeof *cl->timers) != 0) {
            cluster_fail(cl);
            return;
        }
        timer = cl->timer_count++;
    }
    cl->timers[timer] = (struct timer){.job = job, .tag = tag};
    cluster_schedule(cl, engine_now(cl->engine) + (delay > 0 ? delay : 0), cl->kind_timer, timer,
                     cl->jobs[job].gen);
}

int cluster_use_shifted_exp(struct cluster *cl, double shift, double rate, struct rng *streams)
{
    double *ahead = malloc((size_t)cl->cfg.workers * sizeof *ahead);
    if (!ahead)
        return -1;
    for (int w = 0; w < cl->cfg.workers; w++)
        ahead[w] = shift + rng_exp(&streams[w], rate);
    free(cl->ahead);
    cl->ahead = ahead;
    cl->shift = shift;
    cl->rate = rate;
    cl->streams = streams;
    return 0;
}

int cluster_workers(const struct cluster *cl) { return cl->cfg.workers; }

int cluster_worker_load(const struct cluster *cl, int worker) { return cl->workers[worker].load; }

bool cluster_all_idle(const struct cluster *cl) { return cl->active == 0; }

double cluster_worker_seconds(const struct cluster *cl) { return cl->worker_seconds; }

struct engine *cluster_engine(struct cluster *cl) { return cl->engine; }

bool cluster_failed(const struct cluster *cl) { return cl->failed; }
