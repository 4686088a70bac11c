/* run_mpi.h: running a sweep's points on several MPI ranks (`mpirun -np P
 * stragsim run ...`, `srun stragsim run ...`). Rank 0 is the master: it
 * alone reads and writes the database, hands point indices out one at a
 * time (in the order it is given: longest first) and writes each result as
 * it comes back; the other ranks load the same config, run the points they
 * are sent and send back the workload's output (metrics, job rows,
 * iteration rows, wall time) as bytes, so the master writes exactly the
 * numbers a single process would have computed. A rank whose config text
 * differs from rank 0's (a file that is not the same on every node) stops
 * the run before any point is handed out.
 *
 * The master also runs points itself (from the short end of the list) while
 * no worker needs it, and every worker always has one point queued, so on P
 * cores P ranks keep P cores busy. Waiting is MPI_Iprobe + a short sleep,
 * never a busy-polling blocking receive.
 *
 * What runs a point and what writes it belong to run.c (the callbacks
 * below); this file knows only the protocol. Built only with MPI
 * (-Dmpi=enabled, or auto when OpenMPI is found): without it the inline
 * fallbacks below say "one rank" and nothing needs mpi.h.
 */
#ifndef STRAG_RUN_MPI_H
#define STRAG_RUN_MPI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/error.h"
#include "workloads/workload.h"

/* run.c's side: compute a point (any rank), write a computed point (rank 0). */
struct run_mpi_ops {
    uint64_t config_hash; /* every rank must have loaded the same config */
    void *ctx;
    int (*compute)(void *ctx, size_t point, struct workload_output *out, double *wall,
                   struct error *err);
    int (*write)(void *ctx, size_t point, const struct workload_output *out, double wall,
                 struct error *err);
};

#ifdef STRAGSIM_MPI

/* Initialises MPI when the process was started by an MPI launcher (mpirun,
 * mpiexec, srun with PMI/PMIx); otherwise does nothing and the run is a
 * single process. Call once before run_experiment, and run_mpi_end after.
 * (Built without MPI, it refuses to run as one of several launched ranks:
 * each would run the whole sweep into the same database.) */
int run_mpi_begin(int *argc, char ***argv, struct error *err);
void run_mpi_end(void);
int run_mpi_rank(void);  /* 0 without MPI */
int run_mpi_ranks(void); /* 1 without MPI */

/* Rank 0, before it writes anything: waits until every worker has loaded
 * its config; fails (and stops the workers) when one could not, or loaded
 * another config than ops->config_hash says. Optional: run_mpi_master
 * gathers them itself otherwise. */
int run_mpi_gather(const struct run_mpi_ops *ops, struct error *err);

/* Rank 0: runs todo[0..ntodo) over every rank (todo[0] first out), calling
 * ops->write for each result in the order they come back. With ntodo == 0
 * (or after an error of the master's own before dispatch) it only releases
 * the workers. Stops handing out points once *stop is raised (*stopped then
 * says so) or a rank fails (the first error is returned, prefixed with the
 * rank). `written` counts the points written. */
int run_mpi_master(const struct run_mpi_ops *ops, const size_t *todo, size_t ntodo,
                   volatile sig_atomic_t *stop, bool *stopped, size_t *written,
                   struct error *err);

/* Ranks > 0: serves the master until it says stop. `ready` is 0 when this
 * rank loaded the config, else its error (sent to the master, which
 * reports it). Returns 0 unless MPI itself fails. */
int run_mpi_worker(const struct run_mpi_ops *ops, int ready, const struct error *ready_err,
                   volatile sig_atomic_t *stop);

#else

static inline int run_mpi_begin(int *argc, char ***argv, struct error *err)
{
    (void)argc;
    (void)argv;
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (!size)
        size = getenv("PMI_SIZE");
    if (!size)
        size = getenv("SLURM_STEP_NUM_TASKS");
    if (size && atoi(size) > 1)
        return error_fail(err, "stragsim run: this stragsim was built without MPI and cannot "
                               "share a sweep between %s ranks (rebuild with -Dmpi=enabled, "
                               "or run one process)", size);
    return 0;
}
static inline void run_mpi_end(void) {}
static inline int run_mpi_rank(void) { return 0; }
static inline int run_mpi_ranks(void) { return 1; }

/* Never called with one rank; present so run.c needs no #ifdef. */
static inline int run_mpi_gather(const struct run_mpi_ops *ops, struct error *err)
{
    (void)ops, (void)err;
    return 0;
}
static inline int run_mpi_master(const struct run_mpi_ops *ops, const size_t *todo, size_t ntodo,
                                 volatile sig_atomic_t *stop, bool *stopped, size_t *written,
                                 struct error *err)
{
    (void)ops, (void)todo, (void)ntodo, (void)stop, (void)stopped, (void)written;
    return error_fail(err, "built without MPI");
}
static inline int run_mpi_worker(const struct run_mpi_ops *ops, int ready,
                                 const struct error *ready_err, volatile sig_atomic_t *stop)
{
    (void)ops, (void)ready, (void)ready_err, (void)stop;
    return 0;
}

#endif
#endif
