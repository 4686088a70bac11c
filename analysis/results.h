/* results.h: the results database (SQLite, WAL mode), MLflow-shaped:
 *
 *   meta(key, value)                     schema_version, created_by, and
 *                                        points:ID, the distinct points of
 *                                        experiment ID's config (ls: finished?)
 *   experiments(id, name, config_text, config_hash, tool_version, created_at)
 *   runs(id, experiment_id, point_key UNIQUE, repeat, seed, workload, scheme,
 *        wall_seconds, created_at)
 *   params(run_id, key, value)           every resolved config key that applies
 *                                        to the run (config_key_applies)
 *   metrics(run_id, name, value)         aggregates (latency_mean, ...)
 *   jobs(run_id, job, arrival, latency, tasks, extra)   optional per-job rows
 *   iterations(run_id, iteration, sim_time, loss, accuracy, waited, residual,
 *              grad_rel_err, staleness)  training curves
 *
 * Indexes: runs(experiment_id), params(key, value), metrics(name), and the
 * unique (run_id, key|name) of params and metrics. Metric values are REAL,
 * NaN stored as NULL. The writer sets WAL mode, foreign keys on and
 * synchronous = NORMAL; readers open with query_only.
 *
 * One transaction per finished run (sweep point x repeat): a killed sweep
 * loses at most the point in flight, and a point key present in `runs` is a
 * finished point, never written twice (`--resume` skips it).
 */
#ifndef STRAG_RESULTS_H
#define STRAG_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/metrics.h"
#include "base/params.h"

enum { RESULTS_SCHEMA_VERSION = 1 };

struct results;

/* Opens (creating if needed) the database at path. Bad paths (a directory,
 * unwritable, not SQLite, another schema version) are STRAG_EINPUT with one
 * line "path: what is wrong". read_only opens an existing file only. */
int results_open(const char *path, bool read_only, struct results **out, struct error *err);
void results_close(struct results *r);

/* Opens an existing database to change it (rm, merge into): read-write, but
 * a missing file is "path: no such file" and a file without our schema is
 * refused, never given one. */
int results_open_existing(const char *path, struct results **out, struct error *err);

/* Records an experiment (idempotent on (name, config_hash)): returns its id. */
int results_experiment(struct results *r, const char *name, const char *config_text,
                       int64_t *experiment_id, struct error *err);

/* The meta key prefix of an experiment's number of points. */
#define RESULTS_POINTS_META "points:"

/* Records how many distinct points the experiment's config has (so `ls` can
 * tell a finished experiment from one still missing points). */
int results_experiment_points(struct results *r, int64_t experiment_id, size_t points,
                              struct error *err);

/* True when a run with this point key is already stored. */
bool results_has_run(struct results *r, const char *point_key);

/* Metric `name` of the run with this point key into *value (NAN when stored
 * as NULL); false when there is no such run or metric. */
bool results_run_metric(struct results *r, const char *point_key, const char *name,
                        double *value);

struct run_record {
    const char *point_key;
    int repeat;
    uint64_t seed;
    const struct params *params;   /* stored whole in `params` */
    const struct metric_list *metrics;
    const struct job_row *jobs;    size_t njobs;       /* may be 0 */
    const struct iteration_row *iterations; size_t niterations; /* may be 0 */
    const struct tuner_row *tuner; size_t ntuner;               /* may be 0 */
    double wall_seconds;
};

/* Writes one run and everything under it in one transaction. */
int results_write_run(struct results *r, int64_t experiment_id, const struct run_record *rec,
                      struct error *err);

/* The underlying handle, for report/check/plot queries. */
struct sqlite3 *results_db(struct results *r);

/* The error of the handle's last failed call, `doing` saying what failed:
 * a file problem (not a database, read-only, damaged) is STRAG_EINPUT with
 * one line "path: ...", anything else STRAG_EFAIL. Returns its status. */
int results_sql_fail(struct results *r, const char *doing, struct error *err);

/* ---- Reading back (report, check) ---- */

/* The path the database was opened with, for messages. */
const char *results_path(const struct results *r);

/* One stored run as report and check see it. */
struct results_run {
    int64_t id;
    int64_t experiment_id;
    char *point_key;
    int repeat;
    struct params *params;      /* as stored, in the order they were written */
    struct metric_list metrics; /* in the order written; NULL values read as NAN */
    double wall_seconds;        /* how long it took to compute; NAN when unknown */
};

/* Reads every run with its params and metrics, in id (write) order. The
 * caller frees the array with results_runs_free. */
int results_read_runs(struct results *r, struct results_run **runs, size_t *nruns,
                      struct error *err);
void results_runs_free(struct results_run *runs, size_t nruns);

#endif
