/* run.c: the sweep run loop (see run.h). Order of business, so that bad
 * input never leaves a half-written database: config -> every point's
 * params, latency source, scheme and arrivals built and freed -> open the
 * database -> refuse if points are already there (unless --resume) -> run
 * and write point by point, one transaction each. Under MPI with several
 * ranks, rank 0 does all of that and run_mpi.c spreads the points (longest
 * first) over the ranks; the other ranks only load the config and compute. */
#include "app/run.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/results.h"
#include "models/batch_forward.h"
#include "schemes/scheme.h"
#include "workloads/arrivals.h"
#include "app/config.h"
#include "app/dry_run.h"
#include "app/memory.h"
#include "app/point_select.h"
#include "app/progress.h"
#include "base/clock.h"
#include "base/rng.h"
#include "app/run_mpi.h"
#include "app/smoke.h"
#include "app/test_hook.h"
#include "workloads/workload.h"
#include "traces/latency.h"

/* A task's longest duration, cost times the source's largest draw plus the
 * network delay both ways, must stay within LATENCY_DURATION_MAX (the source
 * checked its draws alone). Default task costs are at most a job's cost, 1;
 * scheme.task_cost replaces them. */
static int durations_check(const struct params *p, const struct latency_source *src,
                           struct error *err)
{
    bool costed = params_has(p, "scheme.task_cost");
    double cost = costed ? params_real(p, "scheme.task_cost") : 1.0;
    double delay = params_real(p, "cluster.network_delay"), draw = latency_max(src);
    double longest = cost * draw + 2 * delay;
    if (longest <= LATENCY_DURATION_MAX)
        return 0;
    const char *key = costed && cost * draw > 2 * delay ? "scheme.task_cost" : "cluster.network_delay";
    return error_at_key(err, p, key,
                        "a task could take %s%.3g (cost %g x largest draw %.3g + 2 x network "
                        "delay %g), beyond the limit %g on a task's duration",
                        isinf(longest) ? "more than " : "", isinf(longest) ? DBL_MAX : longest,
                        cost, draw, delay, LATENCY_DURATION_MAX);
}

/* An open (poisson) arrival stream's load on the cluster: every job needs
 * at least cost 1 of work (README, "work and time"), so rate x mean unit
 * duration / (workers x slots) >= 1 means the queue grows without bound.
 * 0 when it cannot be told: closed or replayed arrivals, or a source whose
 * mean is unknown. */
static double point_load(const struct params *p, const struct latency_source *src)
{
    if (strcmp(params_string(p, "workload.arrival"), "poisson") != 0 || !src->ops->mean)
        return 0;
    double mean = src->ops->mean(src);
    double servers = (double)params_int(p, "cluster.workers") * (double)params_int(p, "cluster.slots");
    double load = params_real(p, "workload.rate") * mean / servers;
    return isfinite(load) ? load : 0;
}

/* Builds and frees what running the point would build, so that every
 * semantic error shows up before the first point runs. *load: the point's
 * open-arrival load (point_load). */
static int point_validate(const struct params *p, const char *point_key, double *load,
                          struct error *err)
{
    const struct workload_ops *wl = workload_find(params_string(p, "workload.kind"));
    if (!wl)
        return error_at_key(err, p, "workload.kind", "the %s workload is not available yet",
                            params_string(p, "workload.kind"));
    uint64_t seed = (uint64_t)params_int(p, "experiment.seed"), key = config_key_hash(point_key);
    int workers = (int)params_int(p, "cluster.workers");
    const struct scheme_ops *ops = scheme_find(params_string(p, "scheme.kind"));
    struct scheme_env env = {.params = p, .workers = workers, .seed = seed, .point_key = key};
    struct latency_source *src = NULL;
    struct arrivals *arr = NULL;
    void *scheme = NULL;
    int status = latency_new(p, workers, seed, key, &src, err);
    if (!status)
        status = durations_check(p, src, err);
    *load = status ? 0 : point_load(p, src);
    if (!status)
        status = ops->create(&env, &scheme, err);
    if (!status)
        status = arrivals_new(p, seed, key, &arr, err);
    if (scheme)
        ops->free(scheme);
    latency_free(src);
    arrivals_free(arr);
    int blas_threads = blas_threads_set(1); /* as when the point runs (point_compute) */
    if (!status && wl->check)
        status = wl->check(p, seed, key, err);
    blas_threads_set(blas_threads);
    return status;
}

/* A point's cost, for handing the longest out first under MPI and for the
 * dry run's time estimate: work is roughly jobs (or iterations) x workers;
 * unset keys count as 1. */
static double point_cost(const struct params *p)
{
    double jobs = (double)params_int(p, "workload.jobs");
    double iterations = (double)params_int(p, "workload.iterations");
    double workers = (double)params_int(p, "cluster.workers");
    return fmax(jobs, 1) * fmax(iterations, 1) * fmax(workers, 1);
}


/* The stop request (SIGINT/SIGTERM/SIGHUP, stop.h) as the run loop sees it:
 * checked between points, and between the points of the validation. */
static bool stop_requested(const struct run_options *o) { return o->stop && *o->stop; }

/* A sweep at least this large says how its validation goes when stderr is
 * not a terminal: a line every tenth of it. */
#define VALIDATE_PROGRESS_POINTS 10000

/* Validation progress: on a terminal, "validating: 1234 of 100000 points"
 * in place (at most 5 times a second), cleared when done; elsewhere, for a
 * big sweep, the same as a line every tenth of the way. */
static void validate_progress(const struct run_options *o, size_t done, size_t n, double *last)
{
    if (!o->progress)
        return;
    if (!isatty(fileno(o->progress))) {
        size_t tenth = n / 10 ? n / 10 : 1;
        if (n >= VALIDATE_PROGRESS_POINTS && done < n && done % tenth == 0) {
            fprintf(o->progress, "validating: %zu of %zu points\n", done, n);
            fflush(o->progress);
        }
        return;
    }
    double now = now_seconds();
    if (done < n && now - *last < 0.2)
        return;
    *last = now;
    if (done < n)
        fprintf(o->progress, "\rvalidating: %zu of %zu points", done, n);
    else
        fputs("\r\033[K", o->progress);
    fflush(o->progress);
}

/* One warning line: a point whose queue grows without bound (its latency
 * metrics then depend on the number of jobs). */
static void overload_warn(const struct run_options *o, const struct params *p, double load)
{
    if (!o->warnings)
        return;
    struct error msg;
    error_at_key(&msg, p, "workload.rate",
                 "warning: load %.3g >= 1 (rate x mean task duration of cost 1 / (workers x "
                 "slots)): above the cluster's capacity, the queue grows without bound",
                 load);
    fprintf(o->warnings, "%s\n", msg.msg);
}

/* Validates every point (memory estimate included) and keeps its key and
 * cost (params are cheap to rebuild when the point runs, and a large sweep's
 * params would not be). A stop request ends it early: *stopped, status 0. */
static int points_prepare(const struct run_options *o, const struct config *c, char ***keys,
                          double **costs, bool *stopped, struct error *err)
{
    double memory = o->max_memory > 0 ? o->max_memory : memory_available();
    const char *memory_name = o->max_memory > 0 ? "(--max-memory)" : "available (MemAvailable)";
    size_t n = config_points(c);
    *costs = malloc((n ? n : 1) * sizeof **costs);
    if (!(*keys = calloc(n ? n : 1, sizeof **keys)) || !*costs)
        return error_fail(err, "out of memory");
    double last = now_seconds(), load = 0;
    size_t overloaded = 0;
    for (size_t i = 0; i < n; i++) {
        if (stop_requested(o)) {
            *stopped = true;
            break;
        }
        validate_progress(o, i, n, &last);
        struct params *p = NULL;
        int repeat;
        int status = config_point(c, i, &p, &repeat, &(*keys)[i], err);
        if (!status)
            status = point_validate(p, (*keys)[i], &load, err);
        if (!status && load >= 1 && !overloaded++)
            overload_warn(o, p, load);
        if (!status)
            status = memory_check(p, memory, memory_name, err);
        if (!status)
            (*costs)[i] = point_cost(p);
        params_free(p);
        if (status) {
            validate_progress(o, n, n, &last);
            return status;
        }
    }
    validate_progress(o, n, n, &last);
    return 0;
}

/* Marks in same[] the points whose key an earlier point of the sweep has:
 * they differ from it only in keys that do not apply to them (e.g. a sweep
 * of scheme.stragglers crossed with naive, which reads none), so they are
 * the same simulation, run and stored once. Returns how many. Only the n
 * points sel[0..n) (point_select, in running order) count: a point is
 * another's repeat only when both are run, the other first. */
static const char *const *sort_keys;
static int key_index_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_keys[i], sort_keys[j]);
    return c ? c : (i > j) - (i < j);
}

static int points_repeated(const size_t *sel, size_t n, char *const *keys, bool *same,
                           size_t *count, struct error *err)
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    const char **sel_keys = malloc((n ? n : 1) * sizeof *sel_keys);
    if (!order || !sel_keys) {
        free(order);
        free(sel_keys);
        return error_fail(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        sel_keys[i] = keys[sel[i]];
    }
    sort_keys = sel_keys;
    qsort(order, n, sizeof *order, key_index_cmp);
    *count = 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(sel_keys[order[i]], sel_keys[order[i - 1]]) == 0) {
            same[sel[order[i]]] = true;
            (*count)++;
        }
    free(order);
    free(sel_keys);
    return 0;
}

/* How many different keys keys[0..n) hold: the points a finished
 * experiment stores (recorded for `stragsim ls`). */
static size_t keys_distinct(char *const *keys, size_t n, struct error *err, int *status)
{
    size_t *all = malloc((n ? n : 1) * sizeof *all), distinct = 0;
    if (!all) {
        *status = error_fail(err, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        all[i] = i;
    sort_keys = (const char *const *)keys;
    qsort(all, n, sizeof *all, key_index_cmp);
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || strcmp(keys[all[i]], keys[all[i - 1]]) != 0;
    free(all);
    return distinct;
}

static void keys_free(size_t n, char **keys)
{
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
}

/* "[3/8] scheme.kind=kofn cluster.workers=12 repeat=1": what point i is. */
static void point_label(const struct config *c, const struct params *p, size_t i, int repeat,
                        char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "[%zu/%zu]", i + 1, config_points(c));
    for (size_t a = 0; a < config_axes(c) && n < len; a++)
        n += (size_t)snprintf(buf + n, len - n, " %s=%s", config_axis_key(c, a),
                              params_get(p, config_axis_key(c, a)));
    if (params_int(p, "experiment.repeats") > 1 && n < len)
        snprintf(buf + n, len - n, " repeat=%d", repeat);
}

/* Not on a terminal: one line per finished point,
 * "[3/8] scheme.kind=kofn cluster.workers=12 repeat=1  latency_mean=1.234  (0.21 s)" */
static void progress_line(FILE *f, const struct config *c, const struct params *p, size_t i,
                          int repeat, const struct workload_output *out, double wall)
{
    char label[1024];
    point_label(c, p, i, repeat, label, sizeof label);
    fputs(label, f);
    double mean = metric_list_get(&out->metrics, "latency_mean");
    if (!isnan(mean))
        fprintf(f, "  latency_mean=%.6g", mean);
    fprintf(f, "  (%.2f s)\n", wall);
    fflush(f);
}

/* What computing and writing a point need (the callbacks of run_mpi.h). */
struct run_ctx {
    const struct run_options *o;
    const struct config *c;
    struct results *db;
    int64_t experiment_id;
    struct progress *bar; /* on a terminal: the in-place progress bar; else NULL */
};

/* Runs point i's workload; any rank. */
static int point_compute(void *ctx, size_t i, struct workload_output *out, double *wall,
                         struct error *err)
{
    const struct run_ctx *x = ctx;
    struct params *p;
    int repeat;
    char *key;
    int status = config_point(x->c, i, &p, &repeat, &key, err);
    if (status)
        return status;
    double t0 = now_seconds();
    uint64_t stream_key = config_stream_key(p, repeat);
    /* OpenBLAS single-threaded: its threads would split GEMMs differently
     * on another count (other bits) and contend with the workload's own */
    int blas_threads = blas_threads_set(1);
    if (!stream_key)
        status = error_fail(err, "out of memory");
    else
        status = workload_find(params_string(p, "workload.kind"))
                     ->run(p, (uint64_t)params_int(p, "experiment.seed"),
                           stream_key, out, err);
    blas_threads_set(blas_threads);
    *wall = now_seconds() - t0;
    params_free(p);
    free(key);
    return status;
}

/* Writes point i's output in one transaction and prints its progress line;
 * rank 0 only. */
static int point_write(void *ctx, size_t i, const struct workload_output *out, double wall,
                       struct error *err)
{
    const struct run_ctx *x = ctx;
    struct params *p;
    int repeat;
    char *key;
    int status = config_point(x->c, i, &p, &repeat, &key, err);
    if (status)
        return status;
    /* the params table holds what the run read: the keys that apply to it,
     * and the values the scheme chose while running */
    struct params *stored = config_params_applied(p);
    if (!stored)
        status = error_fail(err, "out of memory");
    struct metric_list metrics = {0};
    for (size_t m = 0; !status && m < out->metrics.n; m++) {
        const char *name = out->metrics.names[m];
        size_t plen = strlen(METRIC_PARAM_PREFIX);
        char value[32]; /* the shortest text that reads back exactly */
        snprintf(value, sizeof value, "%.15g", out->metrics.values[m]);
        if (strtod(value, NULL) != out->metrics.values[m])
            snprintf(value, sizeof value, "%.17g", out->metrics.values[m]);
        if (strncmp(name, METRIC_PARAM_PREFIX, plen) == 0 &&
            params_set(stored, name + plen, value, NULL, 0))
            status = error_fail(err, "out of memory");
        /* a chosen value also stays a metric "param:KEY", so analysis can
         * tell it from a configured one (repeats that chose differently
         * are still one point) */
        else if (metric_list_set(&metrics, name, out->metrics.values[m]))
            status = error_fail(err, "out of memory");
    }
    struct run_record rec = {
        .point_key = key,
        .repeat = repeat,
        .seed = (uint64_t)params_int(p, "experiment.seed"),
        .params = stored,
        .metrics = &metrics,
        .jobs = out->jobs,
        .njobs = out->njobs,
        .iterations = out->iterations,
        .niterations = out->niterations,
        .tuner = out->tuner,
        .ntuner = out->ntuner,
        .wall_seconds = wall,
    };
    const char *broken;
    if (!status && metric_list_check(&metrics, &broken)) { /* an overflow, not a result */
        char label[1024];
        point_label(x->c, p, i, repeat, label, sizeof label);
        status = error_at(err, NULL, 0,
                          "stragsim run: point %s: metric %s is %g, not a number; the point is "
                          "not written",
                          label, broken, metric_list_get(&metrics, broken));
    }
    if (!status)
        status = results_write_run(x->db, x->experiment_id, &rec, err);
    metric_list_clear(&metrics);
    params_free(stored);
    if (!status && x->bar)
        progress_done(x->bar);
    else if (!status && x->o->progress)
        progress_line(x->o->progress, x->c, p, i, repeat, out, wall);
    params_free(p);
    free(key);
    return status;
}

/* Sorts point indices by estimated cost, largest first, ties in config order. */
static const double *sort_costs;
static int cost_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (sort_costs[i] != sort_costs[j])
        return sort_costs[i] > sort_costs[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* Several MPI ranks: the missing points, longest first, to run_mpi.c. */
static int run_points_mpi(const struct run_options *o, struct run_ctx *x, const size_t *order,
                          const bool *present, const double *costs, struct run_summary *sum,
                          struct error *err)
{
    size_t *todo = malloc((sum->points ? sum->points : 1) * sizeof *todo), ntodo = 0;
    if (!todo)
        return error_fail(err, "out of memory");
    for (size_t j = 0; j < sum->points; j++)
        if (!present[order[j]])
            todo[ntodo++] = order[j];
    sort_costs = costs;
    qsort(todo, ntodo, sizeof *todo, cost_cmp);
    struct run_mpi_ops ops = {.config_hash = rng_hash_string(config_text(x->c)), .ctx = x,
                              .compute = point_compute, .write = point_write};
    int status = run_mpi_master(&ops, todo, ntodo, o->stop, &sum->stopped, &sum->written, err);
    free(todo);
    return status;
}

/* One process: the missing points in `order` (point_select). */
static int run_points(const struct run_options *o, struct run_ctx *x, const size_t *order,
                      const bool *present, struct run_summary *sum, struct error *err)
{
    for (size_t j = 0; j < sum->points; j++) {
        size_t i = order[j];
        if (present[i])
            continue;
        if (stop_requested(o)) {
            sum->stopped = true;
            return 0;
        }
        test_hook_point_begins(sum->written + 1);
        if (x->bar) {
            struct params *p;
            int repeat;
            char *key, label[1024];
            if (!config_point(x->c, i, &p, &repeat, &key, err)) {
                point_label(x->c, p, i, repeat, label, sizeof label);
                progress_begin(x->bar, label);
                params_free(p);
                free(key);
            }
        }
        struct workload_output out;
        double wall;
        int status = point_compute(x, i, &out, &wall, err);
        if (!status) {
            status = point_write(x, i, &out, wall, err);
            workload_output_free(&out);
        }
        if (status)
            return status;
        sum->written++;
    }
    return 0;
}

/* An MPI rank other than 0: loads the config and runs what rank 0 sends. */
static int run_worker(const struct run_options *o, struct error *err)
{
    struct config *c = NULL;
    int ready = smoke_config_load(SMOKE_RUN, o->smoke, o->config_path, o->sets, o->nsets, &c, err);
    struct run_ctx x = {.o = o, .c = c};
    struct run_mpi_ops ops = {.config_hash = c ? rng_hash_string(config_text(c)) : 0,
                              .ctx = &x, .compute = point_compute};
    int status = run_mpi_worker(&ops, ready, err, o->stop);
    config_free(c);
    return status ? error_fail(err, "MPI rank %d: lost the master", run_mpi_rank()) : 0;
}

/* Rank 0 failed before handing anything out: tell the other ranks to stop
 * (the master's own error is the one reported). */
static void workers_release(void)
{
    if (run_mpi_ranks() < 2)
        return;
    struct run_mpi_ops ops = {0};
    struct error ignored;
    bool stopped;
    size_t written;
    run_mpi_master(&ops, NULL, 0, NULL, &stopped, &written, &ignored);
}

int run_experiment(const struct run_options *o, struct run_summary *sum, struct error *err)
{
    memset(sum, 0, sizeof *sum);
    if (run_mpi_rank() > 0)
        return run_worker(o, err);
    struct config *c = NULL;
    size_t *order = NULL;
    int status = smoke_config_load(SMOKE_RUN, o->smoke, o->config_path, o->sets, o->nsets, &c, err);
    if (!status)
        status = point_select(o->points, o->reverse, config_points(c), &order, &sum->points, err);
    if (status) {
        config_free(c);
        workers_release();
        return status;
    }
    size_t total = config_points(c);
    char **keys = NULL;
    double *costs = NULL;
    bool *present = NULL;
    struct results *db = NULL;
    status = points_prepare(o, c, &keys, &costs, &sum->stopped, err);
    if (!status && (sum->stopped || stop_requested(o))) { /* nothing written yet */
        sum->stopped = sum->before_write = true;
        workers_release();
        free(costs);
        free(order);
        keys_free(total, keys);
        config_free(c);
        return 0;
    }
    /* Under MPI, every rank must have the same config before the database is touched. */
    struct run_mpi_ops ready = {.config_hash = rng_hash_string(config_text(c))};
    if (!status && run_mpi_ranks() > 1)
        status = run_mpi_gather(&ready, err);

    /* -o wins, then experiment.db (relative to the config), then results.db */
    const char *db_key = params_get(config_base(c), "experiment.db");
    if (o->db_path)
        snprintf(sum->db_path, sizeof sum->db_path, "%s", o->db_path);
    else if (!db_key)
        snprintf(sum->db_path, sizeof sum->db_path, "results.db");
    else if (!status &&
             !params_path(config_base(c), "experiment.db", sum->db_path, sizeof sum->db_path))
        status = error_at_key(err, config_base(c), "experiment.db", "path too long");
    /* a dry run reads the database only if it exists, and never creates it */
    bool db_exists = access(sum->db_path, F_OK) == 0;
    if (!status && (!o->dry_run || db_exists))
        status = results_open(sum->db_path, o->dry_run, &db, err);
    if (!status && !(present = calloc(total ? total : 1, sizeof *present)))
        status = error_fail(err, "out of memory");
    if (!status)
        status = points_repeated(order, sum->points, keys, present, &sum->repeated, err);
    bool *stored = present; /* the dry run tells repeated and stored points apart */
    if (!status && o->dry_run && !(stored = calloc(total ? total : 1, sizeof *stored)))
        status = error_fail(err, "out of memory");
    for (size_t j = 0; !status && db && j < sum->points; j++)
        if (!present[order[j]] && (stored[order[j]] = results_has_run(db, keys[order[j]])))
            sum->skipped++;
    if (!status && o->dry_run) {
        struct dry_run_points pts = {.c = c, .order = order, .n = sum->points, .keys = keys,
                                     .repeated = present, .stored = stored,
                                     .nstored = sum->skipped, .db = db,
                                     .db_path = sum->db_path, .resume = o->resume,
                                     .show = o->show, .cost = point_cost,
                                     .label = point_label};
        status = dry_run_print(&pts, err);
        sum->dry_run = true;
    }
    if (stored != present)
        free(stored);
    if (!status && sum->repeated && o->progress && !o->dry_run)
        fprintf(o->progress,
                "note: %zu points of the sweep are the same simulation as an earlier one (they "
                "differ only in keys that do not apply to them); each is run once\n",
                sum->repeated);
    if (!status && sum->dry_run) {
        workers_release(); /* under MPI: nothing for the other ranks to do */
        results_close(db);
        free(present);
        free(costs);
        free(order);
        keys_free(total, keys);
        config_free(c);
        return 0;
    }
    if (!status && sum->skipped && !o->resume)
        status = error_at(err, sum->db_path, 0,
                          "already holds %zu of the %zu points of this config; use --resume to "
                          "skip them, or -o another database",
                          sum->skipped, sum->points);
    struct run_ctx x = {.o = o, .c = c, .db = db};
    if (!status && o->progress && isatty(fileno(o->progress))) {
        x.bar = progress_new(o->progress, sum->points, PROGRESS_AUTO);
        for (size_t i = 0; i < sum->skipped + sum->repeated; i++)
            progress_skip(x.bar);
    }
    if (!status && sum->skipped + sum->repeated < sum->points)
        status = results_experiment(db, params_get(config_base(c), "experiment.name"),
                                    config_text(c), &x.experiment_id, err);
    if (!status && x.experiment_id) {
        size_t distinct = keys_distinct(keys, total, err, &status);
        if (!status)
            status = results_experiment_points(db, x.experiment_id, distinct, err);
    }
    if (status)
        workers_release();
    else if (run_mpi_ranks() > 1)
        status = run_points_mpi(o, &x, order, present, costs, sum, err);
    else
        status = run_points(o, &x, order, present, sum, err);
    progress_finish(x.bar);
    progress_free(x.bar);
    results_close(db);
    free(present);
    free(costs);
    free(order);
    keys_free(total, keys);
    config_free(c);
    return status;
}
