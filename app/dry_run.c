/* dry_run.c: the plan `stragsim run --dry-run` prints (see dry_run.h). */
#include "app/dry_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/memory.h"

/* Seconds per unit of run_point_cost for one workload kind, from the timed
 * runs of the database: total wall time over total cost. */
struct calibration {
    const char *workload;
    double seconds, cost;
    size_t runs;
};

/* The calibration of every workload kind with timed runs in the database.
 * *runs and *nruns hold the runs (the calibration points into them). */
static int calibrate(struct results *db, double (*point_cost)(const struct params *), struct results_run **runs, size_t *nruns,
                     struct calibration **cal, size_t *ncal, struct error *err)
{
    *runs = NULL;
    *nruns = *ncal = 0;
    *cal = NULL;
    if (!db)
        return 0;
    int rc = results_read_runs(db, runs, nruns, err);
    for (size_t i = 0; !rc && i < *nruns; i++) {
        const struct results_run *r = &(*runs)[i];
        const char *wl = params_get(r->params, "workload.kind");
        if (!wl || !isfinite(r->wall_seconds) || r->wall_seconds < 0)
            continue;
        size_t k = 0;
        while (k < *ncal && strcmp((*cal)[k].workload, wl) != 0)
            k++;
        if (k == *ncal) {
            struct calibration *grown = realloc(*cal, (*ncal + 1) * sizeof *grown);
            if (!grown)
                return error_fail(err, "out of memory");
            *cal = grown;
            (*cal)[(*ncal)++] = (struct calibration){.workload = wl};
        }
        (*cal)[k].seconds += r->wall_seconds;
        (*cal)[k].cost += point_cost(r->params);
        (*cal)[k].runs++;
    }
    return rc;
}

static const struct calibration *calibration_find(const struct calibration *cal, size_t n,
                                                  const char *workload)
{
    for (size_t k = 0; workload && k < n; k++)
        if (strcmp(cal[k].workload, workload) == 0 && cal[k].cost > 0)
            return &cal[k];
    return NULL;
}

/* "2.5 s", "3.1 min", "1.2 h" */
static void seconds_format(double s, char *buf, size_t len)
{
    if (s < 120)
        snprintf(buf, len, "%.2g s", s);
    else if (s < 7200)
        snprintf(buf, len, "%.1f min", s / 60);
    else
        snprintf(buf, len, "%.1f h", s / 3600);
}

int dry_run_print(const struct dry_run_points *pts, struct error *err)
{
    struct results_run *runs;
    size_t nruns, ncal;
    struct calibration *cal;
    int status = calibrate(pts->db, pts->cost, &runs, &nruns, &cal, &ncal, err);
    size_t nrepeated = 0;
    for (size_t j = 0; j < pts->n; j++)
        nrepeated += pts->repeated[pts->order[j]];
    size_t todo = pts->n - nrepeated - pts->nstored;
    if (!status) {
        printf("dry run of %s: %zu points", config_path(pts->c), pts->n);
        if (nrepeated)
            printf(" (%zu the same simulation as an earlier one, run once)", nrepeated);
        printf("; %zu already in %s%s; %zu to run\n", pts->nstored, pts->db_path,
               pts->db ? "" : " (it does not exist yet)", todo);
    }
    double max_bytes = 0, cost_todo = 0, seconds = 0;
    size_t uncalibrated = 0, largest = 0, shown = 0;
    char missing_workload[64] = "?"; /* the first workload without calibration */
    for (size_t j = 0; !status && j < pts->n; j++) {
        size_t i = pts->order[j];
        struct params *p = NULL;
        int repeat;
        char *key = NULL, label[1024];
        status = config_point(pts->c, i, &p, &repeat, &key, err);
        if (status)
            break;
        double bytes = memory_estimate(p, NULL);
        if (bytes > max_bytes) {
            max_bytes = bytes;
            largest = i;
        }
        const char *state = pts->repeated[i] ? "repeat of an earlier point"
                            : pts->stored[i] ? (pts->resume ? "stored (skipped)" : "stored")
                                             : "to run";
        if (!pts->repeated[i] && !pts->stored[i]) {
            double cost = pts->cost(p);
            const char *wl = params_get(p, "workload.kind");
            const struct calibration *k = calibration_find(cal, ncal, wl);
            cost_todo += cost;
            if (k)
                seconds += cost * k->seconds / k->cost;
            else if (uncalibrated++ == 0)
                snprintf(missing_workload, sizeof missing_workload, "%s", wl ? wl : "?");
        }
        if (pts->show == 0 || shown < pts->show) {
            pts->label(pts->c, p, i, repeat, label, sizeof label);
            printf("  %s  %s\n", label, state);
            shown++;
        }
        params_free(p);
        free(key);
    }
    if (!status && shown < pts->n)
        printf("  ... %zu more (--show 0 lists every point)\n", pts->n - shown);
    if (!status) {
        char mem[32], time[32];
        memory_format(max_bytes, mem, sizeof mem);
        printf("memory: about %s for the largest point (point %zu; a lower bound, see "
               "--max-memory)\n",
               mem, largest + 1);
        if (todo == 0)
            printf("time: nothing to run\n");
        else if (uncalibrated == 0) {
            seconds_format(seconds, time, sizeof time);
            printf("time: about %s on one process for the %zu points to run (cost %.3g "
                   "job-worker units, calibrated on the timed runs of %s)\n",
                   time, todo, cost_todo, pts->db_path);
        } else {
            printf("time: unknown: %s has no timed %s run to calibrate the cost model on "
                   "(%zu of the points to run; cost %.3g job-worker units in all)\n",
                   pts->db_path, missing_workload, uncalibrated,
                   cost_todo);
        }
        if (pts->nstored && !pts->resume)
            printf("note: without --resume, run refuses %s: it holds %zu of these points\n",
                   pts->db_path, pts->nstored);
        printf("nothing run, nothing written (dry run)\n");
    }
    free(cal);
    results_runs_free(runs, nruns);
    return status;
}
