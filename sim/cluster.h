/* cluster.h: the cluster model on top of the engine: N workers, each a FIFO
 * server with `slots` parallel slots, a master, an optional one-way network
 * delay master<->worker, and task cancellation.
 *
 * The cluster knows nothing about ML or schemes: it moves tasks (a cost and
 * a tag) to workers, asks the caller's duration hook how long each takes
 * (or draws i.i.d. shifted exponential durations itself, from the caller's
 * streams: cluster_use_shifted_exp), and tells the caller when a result
 * reaches the master. Jobs group tasks so that finishing a job cancels what
 * is left of it.
 *
 * Time of one task on worker w: submit at t -> arrives at worker at
 * t + network_delay -> waits in FIFO -> starts when a slot is free -> runs for
 * hooks.duration(w, job_index, cost) -> result reaches the master
 * network_delay later. Cancellation (cluster_job_finish with cancel = true,
 * or cluster_task_cancel) removes a queued task, and preempts a running one,
 * freeing its slot at once; the worker moves on to its next queued task.
 * Cancellation takes effect at the worker immediately (the cancel message
 * has no network delay). worker_seconds counts the time slots were busy,
 * preempted work included.
 */
#ifndef STRAG_CLUSTER_H
#define STRAG_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "sim/engine.h"

struct cluster;

struct cluster_config {
    int workers;          /* N >= 1 */
    int slots;            /* parallel tasks per worker, >= 1 */
    double network_delay; /* one-way master<->worker delay, >= 0 */
    bool cancel;          /* finishing a job cancels its outstanding tasks */
    size_t job_state_bytes; /* per-job scratch the caller gets (cluster_job_state) */
};

/* A result that reached the master. */
struct cluster_result {
    uint32_t job;     /* job handle */
    uint32_t task;    /* task handle (valid until the job is finished) */
    int worker;
    int tag;          /* the caller's tag from cluster_submit */
    double cost;
    double submitted; /* time the master submitted the task */
    double started;   /* time the worker started it */
    double finished;  /* time the worker finished it */
};

struct cluster_hooks {
    void *ctx;
    /* Duration of a task of `cost` on `worker` for the job with arrival
     * ordinal `job_index` (the latency source). */
    double (*duration)(void *ctx, int worker, uint64_t job_index, double cost);
    /* A task's result reached the master. */
    void (*result)(void *ctx, struct cluster *cl, const struct cluster_result *r);
    /* A timer set with cluster_timer fired (job still open). */
    void (*timer)(void *ctx, struct cluster *cl, uint32_t job, int tag);
    /* Optional: every worker just became idle (nothing queued or running,
     * nothing travelling to a worker). Called at that same time but never
     * from inside a cluster call (a cancellation walk, a submit): when the
     * cluster's own event handler that emptied it is done, or else from an
     * event of its own; and only if the cluster is still idle then. */
    void (*idle)(void *ctx, struct cluster *cl);
};

struct cluster *cluster_new(struct engine *e, const struct cluster_config *cfg,
                            const struct cluster_hooks *hooks);
void cluster_free(struct cluster *cl);

/* Opens a job; returns its handle (a small reusable index), or UINT32_MAX when
 * out of memory. job_index is the job's arrival ordinal (0, 1, ...): the
 * "iteration" the latency source sees. */
uint32_t cluster_job_open(struct cluster *cl, uint64_t job_index);
uint64_t cluster_job_index(const struct cluster *cl, uint32_t job);
double cluster_job_opened_at(const struct cluster *cl, uint32_t job);
/* The caller's per-job scratch, job_state_bytes long, zeroed at open. */
void *cluster_job_state(struct cluster *cl, uint32_t job);
/* Closes a job: with cfg.cancel its queued and running tasks are cancelled
 * (results of tasks left running when cancel is false are dropped on arrival),
 * its timers are dropped, and the handle may be reused. */
void cluster_job_finish(struct cluster *cl, uint32_t job);

/* Sends a task of `cost` to `worker` for `job`; returns the task handle, or
 * UINT32_MAX when the job is not open, there is no such worker, or memory
 * ran out (then the cluster has failed: cluster_failed). */
uint32_t cluster_submit(struct cluster *cl, uint32_t job, int worker, double cost, int tag);
/* Sends one task of `cost` to each worker w < n, tagged w, in worker order:
 * what cluster_submit(cl, job, w, cost, w) for w = 0 .. n - 1 does, in one
 * call (the fan-out of most schemes). Returns 0, or -1 when the job is not
 * open, n is more than the workers, or memory ran out (the tasks sent
 * before stay, and the cluster has failed). */
int cluster_submit_fanout(struct cluster *cl, uint32_t job, int n, double cost);
/* Cancels one task of an open job (queued: removed; running: preempted;
 * already done: nothing). */
void cluster_task_cancel(struct cluster *cl, uint32_t task);
/* Calls hooks.timer(job, tag) after `delay`, unless the job is finished first. */
void cluster_timer(struct cluster *cl, uint32_t job, double delay, int tag);

/* Optional fast path for the commonest latency model, i.i.d. shifted
 * exponential: a task of cost c on worker w runs c * (shift + Exp(rate)),
 * the unit draw shift + rng_exp(&streams[w], rate), instead of asking
 * hooks.duration (one indirect call less on every task start). streams
 * [workers] are the caller's and must outlive the cluster; each worker's
 * next unit draw is taken one task ahead, off the path from a task's start
 * to its completion, so a worker's draws and their order are those the hook
 * would make. Call before the first submit. Returns 0, or -1 when out of
 * memory (the hook stays in use). */
int cluster_use_shifted_exp(struct cluster *cl, double shift, double rate, struct rng *streams);

int cluster_workers(const struct cluster *cl);
/* Tasks queued or running on a worker, or travelling to it (for
 * shortest-queue placement). */
int cluster_worker_load(const struct cluster *cl, int worker);
bool cluster_all_idle(const struct cluster *cl);
/* Slot-seconds spent on tasks so far, preempted work included. */
double cluster_worker_seconds(const struct cluster *cl);
struct engine *cluster_engine(struct cluster *cl);
/* True once an allocation failed inside an event handler or a submit: the
 * engine was stopped, cluster_job_open/cluster_submit return UINT32_MAX from
 * then on, and the run's numbers are void (report it as out of memory). */
bool cluster_failed(const struct cluster *cl);

#endif
