/* export.c: writing the jobs, iterations, tuner and metrics tables of a results
 * database as CSV, each row prefixed by its run (see export.h). Reads only;
 * the schema belongs to results.c. */
#include "analysis/export.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "analysis/report.h"

const char export_tables[] = "jobs|iterations|tuner|metrics";

/* The bulk tables: the query (run_id first, then the columns) and the
 * column names. metrics is built from the runs instead (sql NULL). */
static const struct {
    const char *name;
    const char *sql;
    const char *columns;
    const char *empty_hint;
} export_defs[] = {
    {"jobs", "SELECT run_id, job, arrival, latency, tasks, extra FROM jobs ORDER BY run_id, job",
     "job,arrival,latency,tasks,extra", "runs store per-job rows with workload.job_rows = true"},
    {"iterations",
     "SELECT run_id, iteration, sim_time, loss, accuracy, waited, residual, grad_rel_err, "
     "staleness FROM iterations ORDER BY run_id, iteration",
     "iteration,sim_time,loss,accuracy,waited,residual,grad_rel_err,staleness",
     "training runs write them"},
    {"tuner",
     "SELECT run_id, decision, iteration, sim_time, key, value, reason FROM tuner"
     " ORDER BY run_id, decision",
     "decision,iteration,sim_time,key,value,reason", "training runs with workload.tuner.kind write them"},
    {"metrics", NULL, NULL, "no runs"},
};

void export_number(FILE *out, double x)
{
    if (isnan(x))
        return;
    char buf[32];
    snprintf(buf, sizeof buf, "%.15g", x);
    if (strtod(buf, NULL) != x)
        snprintf(buf, sizeof buf, "%.17g", x);
    fputs(buf, out);
}

/* The runs and the param columns every row starts with. */
struct run_prefix {
    struct results_run *runs;
    size_t nruns;
    const char **keys; /* params that vary across the runs */
    size_t nkeys;
};

static void prefix_free(struct run_prefix *p)
{
    results_runs_free(p->runs, p->nruns);
    free(p->keys);
}

static int prefix_load(struct results *r, struct run_prefix *p, struct error *err)
{
    *p = (struct run_prefix){0};
    int rc = results_read_runs(r, &p->runs, &p->nruns, err);
    if (rc)
        return rc;
    const struct results_run **all = malloc((p->nruns + 1) * sizeof *all);
    bool repeat_varies;
    if (!all)
        return error_fail(err, "out of memory");
    for (size_t i = 0; i < p->nruns; i++)
        all[i] = &p->runs[i];
    rc = report_varying_params(all, p->nruns, &p->keys, &p->nkeys, &repeat_varies);
    free(all);
    return rc ? error_fail(err, "out of memory") : 0;
}

static void prefix_header(FILE *out, const struct run_prefix *p)
{
    fputs("run_id,point_key,repeat", out);
    for (size_t i = 0; i < p->nkeys; i++) {
        fputc(',', out);
        report_csv_field(out, p->keys[i]);
    }
}

static void prefix_row(FILE *out, const struct run_prefix *p, const struct results_run *run)
{
    fprintf(out, "%" PRId64 ",", run->id);
    report_csv_field(out, run->point_key);
    fprintf(out, ",%d", run->repeat);
    for (size_t i = 0; i < p->nkeys; i++) {
        const char *v = params_get(run->params, p->keys[i]);
        fputc(',', out);
        report_csv_field(out, v ? v : "");
    }
}

static int export_bulk(struct results *r, const struct run_prefix *p, size_t def, FILE *out,
                       struct error *err)
{
    sqlite3 *db = results_db(r);
    sqlite3_stmt *st;
    /* a database written before the tuner table existed: no rows */
    if (sqlite3_table_column_metadata(db, "main", export_defs[def].name, NULL, NULL, NULL, NULL,
                                      NULL, NULL) != SQLITE_OK)
        return error_at(err, results_path(r), 0, "no %s rows (%s)", export_defs[def].name,
                        export_defs[def].empty_hint);
    if (sqlite3_prepare_v2(db, export_defs[def].sql, -1, &st, NULL) != SQLITE_OK)
        return error_fail(err, "%s: reading %s: %s", results_path(r), export_defs[def].name,
                          sqlite3_errmsg(db));
    size_t rows = 0, at = 0;
    int step = SQLITE_DONE;
    while (!ferror(out) && (step = sqlite3_step(st)) == SQLITE_ROW) {
        /* Rows and runs are both in run id order: a merge join. */
        int64_t id = sqlite3_column_int64(st, 0);
        while (at < p->nruns && p->runs[at].id < id)
            at++;
        if (at == p->nruns || p->runs[at].id != id)
            continue; /* orphan row, as results_read_runs skips them */
        const struct results_run *run = &p->runs[at];
        if (rows++ == 0) {
            prefix_header(out, p);
            fprintf(out, ",%s\r\n", export_defs[def].columns);
        }
        prefix_row(out, p, run);
        for (int c = 1; c < sqlite3_column_count(st); c++) {
            fputc(',', out);
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER: fprintf(out, "%lld", sqlite3_column_int64(st, c)); break;
            case SQLITE_FLOAT: export_number(out, sqlite3_column_double(st, c)); break;
            case SQLITE_TEXT: report_csv_field(out, (const char *)sqlite3_column_text(st, c)); break;
            default: break; /* NULL */
            }
        }
        fputs("\r\n", out);
    }
    int rc = 0;
    if (ferror(out))
        rc = 0; /* a write failed: the caller's flush and close report it */
    else if (step != SQLITE_DONE)
        rc = error_fail(err, "%s: reading %s: %s", results_path(r), export_defs[def].name,
                        sqlite3_errmsg(db));
    else if (rows == 0)
        rc = error_at(err, results_path(r), 0, "no %s rows (%s)", export_defs[def].name,
                      export_defs[def].empty_hint);
    sqlite3_finalize(st);
    return rc;
}

/* One row per run, one column per metric name (first-seen order). */
static int export_metrics(struct results *r, const struct run_prefix *p, FILE *out,
                          struct error *err)
{
    if (p->nruns == 0)
        return error_at(err, results_path(r), 0, "no runs");
    const char **names = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < p->nruns; i++) {
        const struct metric_list *m = &p->runs[i].metrics;
        for (size_t j = 0; j < m->n; j++) {
            size_t k = 0;
            while (k < n && strcmp(names[k], m->names[j]) != 0)
                k++;
            if (k < n)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 32;
                const char **g = realloc(names, cap * sizeof *g);
                if (!g) {
                    free(names);
                    return error_fail(err, "out of memory");
                }
                names = g;
            }
            names[n++] = m->names[j];
        }
    }
    prefix_header(out, p);
    for (size_t k = 0; k < n; k++) {
        fputc(',', out);
        report_csv_field(out, names[k]);
    }
    fputs("\r\n", out);
    for (size_t i = 0; i < p->nruns; i++) {
        prefix_row(out, p, &p->runs[i]);
        for (size_t k = 0; k < n; k++) {
            fputc(',', out);
            export_number(out, metric_list_get(&p->runs[i].metrics, names[k]));
        }
        fputs("\r\n", out);
    }
    free(names);
    return 0;
}

int export_csv(struct results *r, const char *table, FILE *out, struct error *err)
{
    size_t def = 0, ndefs = sizeof export_defs / sizeof export_defs[0];
    while (def < ndefs && strcmp(export_defs[def].name, table) != 0)
        def++;
    if (def == ndefs)
        return error_at(err, NULL, 0, "stragsim export: unknown table '%s' (expected %s)", table,
                        export_tables);
    struct run_prefix p;
    int rc = prefix_load(r, &p, err);
    if (!rc)
        rc = export_defs[def].sql ? export_bulk(r, &p, def, out, err)
                                  : export_metrics(r, &p, out, err);
    prefix_free(&p);
    return rc;
}
