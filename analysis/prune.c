/* prune.c: selects runs and deletes them with everything under them (rules
 * in prune.h). Foreign keys are on in every connection results_open makes,
 * so deleting a run cascades to its params, metrics, jobs, iterations and
 * tuner decisions;
 * foreign_key_check before the commit proves it did. */
#include "analysis/prune.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One integer from sql with ?1 bound to id. */
static int count_rows(struct results *r, sqlite3_stmt *st, int64_t id, size_t *count,
                      struct error *err)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW)
        return results_sql_fail(r, "counting rows", err);
    *count += (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

static bool experiment_exists(struct results *r, int64_t id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(results_db(r), "SELECT 1 FROM experiments WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_int64(st, 1, id);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

int prune_select(struct results *r, const struct results_run *runs, size_t nruns,
                 const struct prune_selection *sel, size_t **picked, size_t *npicked,
                 struct error *err)
{
    *picked = NULL;
    *npicked = 0;
    if (sel->by_experiment && !experiment_exists(r, sel->experiment_id))
        return error_at(err, NULL, 0,
                        "stragsim rm: --experiment: %s has no experiment %lld (stragsim ls "
                        "lists them)",
                        results_path(r), (long long)sel->experiment_id);
    char buf[24];
    for (size_t f = 0; f < sel->nwhere; f++) {
        bool found = strcmp(sel->where[f].key, "repeat") == 0;
        for (size_t i = 0; i < nruns && !found; i++)
            found = report_run_param(&runs[i], sel->where[f].key, buf) != NULL;
        if (!found)
            return error_at(err, NULL, 0, "stragsim rm: --where: no param '%s' in %s",
                            sel->where[f].key, results_path(r));
    }
    size_t *out = malloc((nruns ? nruns : 1) * sizeof *out), n = 0;
    if (!out)
        return error_fail(err, "out of memory");
    for (size_t i = 0; i < nruns; i++)
        if ((!sel->by_experiment || runs[i].experiment_id == sel->experiment_id) &&
            report_run_matches(&runs[i], sel->where, sel->nwhere))
            out[n++] = i;
    *picked = out;
    *npicked = n;
    return 0;
}

/* The statements of a deletion, prepared once. */
enum {
    Q_PARAMS, Q_METRICS, Q_JOBS, Q_ITERATIONS, Q_TUNER, Q_DELETE_RUN, Q_LEFT, Q_DELETE_EXPERIMENT,
    Q_DELETE_POINTS, Q_COUNT
};
static const char *const prune_sql[Q_COUNT] = {
    [Q_PARAMS] = "SELECT count(*) FROM params WHERE run_id = ?1",
    [Q_METRICS] = "SELECT count(*) FROM metrics WHERE run_id = ?1",
    [Q_JOBS] = "SELECT count(*) FROM jobs WHERE run_id = ?1",
    [Q_ITERATIONS] = "SELECT count(*) FROM iterations WHERE run_id = ?1",
    /* not prepared for a database written before the tuner table existed */
    [Q_TUNER] = "SELECT count(*) FROM tuner WHERE run_id = ?1",
    [Q_DELETE_RUN] = "DELETE FROM runs WHERE id = ?1",
    /* runs of the experiment that are not picked (a temp table would be a
     * write, and a dry run writes nothing) */
    [Q_LEFT] = "SELECT count(*) FROM runs WHERE experiment_id = ?1",
    [Q_DELETE_EXPERIMENT] = "DELETE FROM experiments WHERE id = ?1"
                            " AND NOT EXISTS (SELECT 1 FROM runs WHERE experiment_id = ?1)",
    [Q_DELETE_POINTS] = "DELETE FROM meta WHERE key = '" RESULTS_POINTS_META "' || ?1"
                        " AND NOT EXISTS (SELECT 1 FROM experiments WHERE id = ?1)",
};

static int exec(struct results *r, const char *sql, const char *doing, struct error *err)
{
    return sqlite3_exec(results_db(r), sql, NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : results_sql_fail(r, doing, err);
}

/* Steps a DELETE bound to id. */
static int delete_id(struct results *r, sqlite3_stmt *st, int64_t id, struct error *err)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : results_sql_fail(r, "deleting runs", err);
    sqlite3_reset(st);
    return rc;
}

/* Fails when any row points at a row that is gone. */
static int foreign_keys_clean(struct results *r, struct error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(results_db(r), "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return results_sql_fail(r, "checking foreign keys", err);
    int rc = sqlite3_step(st);
    int status = 0;
    if (rc == SQLITE_ROW)
        status = error_fail(err, "%s: deleting would leave a row of %s without its %s; nothing "
                                 "deleted",
                            results_path(r), (const char *)sqlite3_column_text(st, 0),
                            (const char *)sqlite3_column_text(st, 2));
    else if (rc != SQLITE_DONE)
        status = results_sql_fail(r, "checking foreign keys", err);
    sqlite3_finalize(st);
    return status;
}

/* Deletes experiment exp when it is left without runs (counts it; a dry
 * run counts it when every run it has is picked). */
static int experiment_prune(struct results *r, sqlite3_stmt *const *q,
                            const struct results_run *runs, const size_t *picked,
                            size_t npicked, int64_t exp, bool dry_run,
                            struct prune_counts *counts, struct error *err)
{
    size_t left = 0;
    int status = count_rows(r, q[Q_LEFT], exp, &left, err);
    if (status)
        return status;
    if (dry_run) {
        size_t going = 0; /* picked runs of this experiment */
        for (size_t j = 0; j < npicked; j++)
            going += runs[picked[j]].experiment_id == exp;
        counts->experiments += left == going;
        return 0;
    }
    if (left > 0)
        return 0;
    counts->experiments++;
    status = delete_id(r, q[Q_DELETE_EXPERIMENT], exp, err);
    return status ? status : delete_id(r, q[Q_DELETE_POINTS], exp, err);
}

int prune_delete(struct results *r, const struct prune_selection *sel,
                 const struct results_run *runs, const size_t *picked, size_t npicked,
                 bool dry_run, struct prune_counts *counts, struct error *err)
{
    *counts = (struct prune_counts){.runs = npicked};
    sqlite3_stmt *q[Q_COUNT] = {0};
    int status = 0;
    bool has_tuner = sqlite3_table_column_metadata(results_db(r), "main", "tuner", "run_id", NULL,
                                                   NULL, NULL, NULL, NULL) == SQLITE_OK;
    for (int i = 0; i < Q_COUNT && !status; i++)
        if ((i != Q_TUNER || has_tuner) && sqlite3_prepare_v2(results_db(r), prune_sql[i], -1, &q[i], NULL) != SQLITE_OK)
            status = results_sql_fail(r, "preparing the deletion", err);
    if (!status && !dry_run)
        status = exec(r, "BEGIN IMMEDIATE", "starting a transaction", err);
    size_t *per_table[] = {&counts->params, &counts->metrics, &counts->jobs, &counts->iterations,
                           &counts->tuner};
    for (size_t k = 0; !status && k < npicked; k++) {
        const struct results_run *run = &runs[picked[k]];
        for (int t = Q_PARAMS; t <= Q_TUNER && !status; t++)
            if (q[t])
                status = count_rows(r, q[t], run->id, per_table[t - Q_PARAMS], err);
        if (!status && !dry_run)
            status = delete_id(r, q[Q_DELETE_RUN], run->id, err);
    }
    /* experiments left without runs: every experiment a picked run was in,
     * and the selected one (which may have none: a sweep killed before its
     * first point), each once */
    for (size_t k = 0; !status && k <= npicked; k++) {
        int64_t exp;
        if (k < npicked)
            exp = runs[picked[k]].experiment_id;
        else if (sel->by_experiment)
            exp = sel->experiment_id;
        else
            break;
        bool first = true;
        for (size_t j = 0; j < k && first; j++)
            first = runs[picked[j]].experiment_id != exp;
        if (first)
            status = experiment_prune(r, q, runs, picked, npicked, exp, dry_run, counts, err);
    }
    if (!status && !dry_run)
        status = foreign_keys_clean(r, err);
    if (!status && !dry_run)
        status = exec(r, "COMMIT", "committing the deletion", err);
    if (status && !sqlite3_get_autocommit(results_db(r)))
        sqlite3_exec(results_db(r), "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(q[i]);
    return status;
}
