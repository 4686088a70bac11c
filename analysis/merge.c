/* merge.c: copies the runs of input databases into an output one (rules in
 * merge.h). Each input is checked by results_open, then ATTACHed to the
 * output's connection so that a run and its rows are copied by
 * INSERT ... SELECT, in SQLite, without a round trip through C. */
#include "analysis/merge.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


enum {
    M_EXPERIMENTS, M_ADD_EXPERIMENT, M_FIND_EXPERIMENT, M_POINTS, M_SET_POINTS, M_RUNS,
    M_FIND_RUN, M_DIFFER, M_ADD_RUN, M_ADD_PARAMS, M_ADD_METRICS, M_ADD_JOBS, M_ADD_ITERATIONS,
    M_ADD_TUNER, M_COUNT
};
static const char *const merge_sql[M_COUNT] = {
    [M_EXPERIMENTS] = "SELECT id, name, config_hash FROM src.experiments ORDER BY id",
    [M_ADD_EXPERIMENT] = "INSERT INTO main.experiments(name, config_text, config_hash,"
                         " tool_version, created_at) SELECT name, config_text, config_hash,"
                         " tool_version, created_at FROM src.experiments WHERE id = ?1"
                         " ON CONFLICT(name, config_hash) DO NOTHING",
    [M_FIND_EXPERIMENT] = "SELECT id FROM main.experiments WHERE name = ?1 AND config_hash = ?2",
    [M_POINTS] = "SELECT value FROM src.meta WHERE key = '" RESULTS_POINTS_META "' || ?1",
    [M_SET_POINTS] = "INSERT OR REPLACE INTO main.meta(key, value)"
                     " VALUES('" RESULTS_POINTS_META "' || ?1, ?2)",
    [M_RUNS] = "SELECT id, experiment_id, point_key, workload, scheme, repeat FROM src.runs"
               " ORDER BY id",
    [M_FIND_RUN] = "SELECT id FROM main.runs WHERE point_key = ?1",
    /* the first metric (by name) whose value differs, or that one side lacks;
     * IS NOT compares NULL (a NaN) as a value */
    [M_DIFFER] = "SELECT name, a, b FROM ("
                 " SELECT m.name AS name, m.value AS a, s.value AS b, 1 AS both_"
                 "  FROM main.metrics m JOIN src.metrics s ON s.name = m.name"
                 "  WHERE m.run_id = ?1 AND s.run_id = ?2 AND m.value IS NOT s.value"
                 " UNION ALL SELECT name, value, NULL, 0 FROM main.metrics WHERE run_id = ?1"
                 "  AND name NOT IN (SELECT name FROM src.metrics WHERE run_id = ?2)"
                 " UNION ALL SELECT name, NULL, value, 0 FROM src.metrics WHERE run_id = ?2"
                 "  AND name NOT IN (SELECT name FROM main.metrics WHERE run_id = ?1))"
                 " ORDER BY name LIMIT 1",
    [M_ADD_RUN] = "INSERT INTO main.runs(experiment_id, point_key, repeat, seed, workload, scheme,"
                  " wall_seconds, created_at) SELECT ?1, point_key, repeat, seed, workload, scheme,"
                  " wall_seconds, created_at FROM src.runs WHERE id = ?2",
    [M_ADD_PARAMS] = "INSERT INTO main.params(run_id, key, value)"
                     " SELECT ?1, key, value FROM src.params WHERE run_id = ?2 ORDER BY rowid",
    [M_ADD_METRICS] = "INSERT INTO main.metrics(run_id, name, value)"
                      " SELECT ?1, name, value FROM src.metrics WHERE run_id = ?2 ORDER BY rowid",
    [M_ADD_JOBS] = "INSERT INTO main.jobs SELECT ?1, job, arrival, latency, tasks, extra"
                   " FROM src.jobs WHERE run_id = ?2",
    [M_ADD_ITERATIONS] = "INSERT INTO main.iterations SELECT ?1, iteration, sim_time, loss,"
                         " accuracy, waited, residual, grad_rel_err, staleness"
                         " FROM src.iterations WHERE run_id = ?2",
    /* a database written before the tuner table existed has none: skipped */
    [M_ADD_TUNER] = "INSERT INTO main.tuner SELECT ?1, decision, iteration, sim_time, key, value,"
                    " reason FROM src.tuner WHERE run_id = ?2",
};

/* One input attached as `src`, its statements, and where its experiments went. */
struct merge_input {
    struct results *out;
    const char *path;
    sqlite3_stmt *q[M_COUNT];
    int64_t *exp_from, *exp_to; /* src experiment id -> out experiment id */
    size_t nexp;
};

static int step_done(struct merge_input *in, sqlite3_stmt *st, const char *doing,
                     struct error *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : results_sql_fail(in->out, doing, err);
    sqlite3_reset(st);
    return rc;
}

/* Copies every experiment of the input (and its number of points). */
static int experiments_copy(struct merge_input *in, struct merge_summary *sum, struct error *err)
{
    sqlite3_stmt *list = in->q[M_EXPERIMENTS];
    int rc, status = 0;
    while (!status && (rc = sqlite3_step(list)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(list, 0);
        int64_t *from = realloc(in->exp_from, (in->nexp + 1) * sizeof *from);
        if (from)
            in->exp_from = from;
        int64_t *to = from ? realloc(in->exp_to, (in->nexp + 1) * sizeof *to) : NULL;
        if (!to)
            return error_fail(err, "out of memory");
        in->exp_to = to;
        sqlite3_stmt *add = in->q[M_ADD_EXPERIMENT], *find = in->q[M_FIND_EXPERIMENT];
        sqlite3_bind_int64(add, 1, id);
        status = step_done(in, add, "copying an experiment", err);
        if (!status && sqlite3_changes(results_db(in->out)) > 0)
            sum->experiments++;
        sqlite3_bind_value(find, 1, sqlite3_column_value(list, 1));
        sqlite3_bind_value(find, 2, sqlite3_column_value(list, 2));
        if (!status && sqlite3_step(find) == SQLITE_ROW) {
            in->exp_from[in->nexp] = id;
            in->exp_to[in->nexp++] = sqlite3_column_int64(find, 0);
        } else if (!status) {
            status = results_sql_fail(in->out, "finding a copied experiment", err);
        }
        sqlite3_reset(find);
        sqlite3_stmt *points = in->q[M_POINTS], *set = in->q[M_SET_POINTS];
        sqlite3_bind_int64(points, 1, id);
        if (!status && sqlite3_step(points) == SQLITE_ROW) {
            sqlite3_bind_int64(set, 1, in->exp_to[in->nexp - 1]);
            sqlite3_bind_value(set, 2, sqlite3_column_value(points, 0));
            status = step_done(in, set, "copying an experiment's points", err);
        }
        sqlite3_reset(points);
    }
    if (!status && rc != SQLITE_DONE)
        status = results_sql_fail(in->out, "reading experiments", err);
    sqlite3_reset(list);
    return status;
}

/* The conflict of a point stored with other metrics, as one line: the
 * point (key, workload, scheme, repeat of the input's run `list` is on) and
 * the first metric that differs. */
static int conflict(struct merge_input *in, sqlite3_stmt *list, sqlite3_stmt *differ,
                    struct error *err)
{
    const char *name = (const char *)sqlite3_column_text(differ, 0);
    char here[40] = "missing", there[40] = "missing";
    if (sqlite3_column_type(differ, 1) != SQLITE_NULL)
        snprintf(here, sizeof here, "%.17g", sqlite3_column_double(differ, 1));
    if (sqlite3_column_type(differ, 2) != SQLITE_NULL)
        snprintf(there, sizeof there, "%.17g", sqlite3_column_double(differ, 2));
    const char *workload = (const char *)sqlite3_column_text(list, 3);
    const char *scheme = (const char *)sqlite3_column_text(list, 4);
    return error_at(err, NULL, 0,
                    "stragsim merge: point %s (%s, %s, repeat %d) has %s %s in %s but %s in %s "
                    "or an earlier input; nothing merged",
                    (const char *)sqlite3_column_text(list, 2), workload ? workload : "?",
                    scheme ? scheme : "?", sqlite3_column_int(list, 5), name ? name : "?", there,
                    in->path, here, results_path(in->out));
}

/* Copies the runs of the input, or keeps the stored one of a duplicate. */
static int runs_copy(struct merge_input *in, struct merge_summary *sum, struct error *err)
{
    sqlite3_stmt *list = in->q[M_RUNS];
    int rc, status = 0;
    while (!status && (rc = sqlite3_step(list)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(list, 0), exp = sqlite3_column_int64(list, 1);
        const char *key = (const char *)sqlite3_column_text(list, 2);
        sqlite3_stmt *find = in->q[M_FIND_RUN];
        sqlite3_bind_text(find, 1, key, -1, SQLITE_TRANSIENT);
        int found = sqlite3_step(find);
        int64_t have = found == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
        sqlite3_reset(find);
        if (found == SQLITE_ROW) {
            sqlite3_stmt *differ = in->q[M_DIFFER];
            sqlite3_bind_int64(differ, 1, have);
            sqlite3_bind_int64(differ, 2, id);
            int d = sqlite3_step(differ);
            if (d == SQLITE_ROW)
                status = conflict(in, list, differ, err);
            else if (d != SQLITE_DONE)
                status = results_sql_fail(in->out, "comparing metrics", err);
            sqlite3_reset(differ);
            sum->duplicates += !status;
            continue;
        }
        int64_t to = -1;
        for (size_t e = 0; e < in->nexp && to < 0; e++)
            if (in->exp_from[e] == exp)
                to = in->exp_to[e];
        if (to < 0)
            return error_at(err, in->path, 0, "run %lld belongs to no experiment",
                            (long long)id);
        sqlite3_stmt *add = in->q[M_ADD_RUN];
        sqlite3_bind_int64(add, 1, to);
        sqlite3_bind_int64(add, 2, id);
        status = step_done(in, add, "copying a run", err);
        int64_t run = sqlite3_last_insert_rowid(results_db(in->out));
        for (int t = M_ADD_PARAMS; !status && t <= M_ADD_TUNER; t++) {
            if (!in->q[t])
                continue;
            sqlite3_bind_int64(in->q[t], 1, run);
            sqlite3_bind_int64(in->q[t], 2, id);
            status = step_done(in, in->q[t], "copying a run's rows", err);
        }
        sum->copied += !status;
    }
    if (!status && rc != SQLITE_DONE)
        status = results_sql_fail(in->out, "reading runs", err);
    sqlite3_reset(list);
    return status;
}

/* sql with every "src." made "srcN." (the input's schema name). */
static char *sql_for_input(const char *sql, size_t n)
{
    char name[32];
    int len = snprintf(name, sizeof name, "src%zu.", n);
    size_t count = 0;
    for (const char *p = sql; (p = strstr(p, "src.")); p += 4)
        count++;
    char *out = malloc(strlen(sql) + count * (size_t)len + 1), *w = out;
    if (!out)
        return NULL;
    for (const char *p = sql, *hit; *p; p = hit + 4) {
        if (!(hit = strstr(p, "src."))) {
            strcpy(w, p);
            return out;
        }
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, name, (size_t)len);
        w += len;
    }
    *w = '\0';
    return out;
}

/* Input n, attached as srcN: its experiments and runs copied. */
static int input_merge(struct results *out, const char *path, size_t n,
                       struct merge_summary *sum, struct error *err)
{
    struct merge_input in = {.out = out, .path = path};
    int status = 0;
    char schema[32];
    snprintf(schema, sizeof schema, "src%zu", n);
    bool has_tuner = sqlite3_table_column_metadata(results_db(out), schema, "tuner", "run_id",
                                                   NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
    for (int i = 0; i < M_COUNT && !status; i++) {
        if (i == M_ADD_TUNER && !has_tuner)
            continue;
        char *sql = sql_for_input(merge_sql[i], n);
        if (!sql)
            status = error_fail(err, "out of memory");
        else if (sqlite3_prepare_v2(results_db(out), sql, -1, &in.q[i], NULL) != SQLITE_OK)
            status = results_sql_fail(out, "preparing the merge", err);
        free(sql);
    }
    if (!status)
        status = experiments_copy(&in, sum, err);
    if (!status)
        status = runs_copy(&in, sum, err);
    for (int i = 0; i < M_COUNT; i++)
        sqlite3_finalize(in.q[i]);
    free(in.exp_from);
    free(in.exp_to);
    sum->inputs += !status;
    return status;
}

/* Checks input n (results_open: ours, our schema version) and attaches it
 * as srcN. */
static int input_attach(struct results *out, const char *path, size_t n, struct error *err)
{
    struct results *check = NULL;
    int status = results_open(path, true, &check, err);
    results_close(check);
    if (status)
        return status;
    sqlite3 *db = results_db(out);
    char sql[64];
    snprintf(sql, sizeof sql, "ATTACH DATABASE ?1 AS src%zu", n);
    sqlite3_stmt *attach;
    if (sqlite3_prepare_v2(db, sql, -1, &attach, NULL) != SQLITE_OK)
        return results_sql_fail(out, "attaching an input", err);
    sqlite3_bind_text(attach, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(attach);
    sqlite3_finalize(attach);
    if (rc != SQLITE_DONE)
        return error_at(err, path, 0, "cannot attach: %s", sqlite3_errmsg(db));
    return 0;
}

static void inputs_detach(struct results *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "DETACH DATABASE src%zu", i);
        sqlite3_exec(results_db(out), sql, NULL, NULL, NULL);
    }
}

size_t merge_max_inputs(struct results *out)
{
    sqlite3 *db = results_db(out);
    /* as many as this SQLite lets one connection attach */
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 125);
    return (size_t)sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1);
}

int merge_into(struct results *out, const char *const *inputs, size_t ninputs,
               struct merge_summary *sum, struct error *err)
{
    *sum = (struct merge_summary){0};
    /* SQLite attaches outside a transaction only: every input is attached
     * first, so that the whole merge is one transaction. A deferred BEGIN:
     * the inputs are only read (IMMEDIATE would lock every attached file
     * for writing, an input given twice against itself). */
    size_t max = merge_max_inputs(out), attached = 0;
    if (ninputs > max)
        return error_at(err, NULL, 0,
                        "stragsim merge: %zu input databases, at most %zu at a time (merge "
                        "the rest into OUT with a second command)",
                        ninputs, max);
    int status = 0;
    for (; attached < ninputs && !status; attached++)
        status = input_attach(out, inputs[attached], attached, err);
    if (status)
        attached--;
    if (!status)
        status = sqlite3_exec(results_db(out), "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                     ? 0
                     : results_sql_fail(out, "starting a transaction", err);
    for (size_t i = 0; i < ninputs && !status; i++)
        status = input_merge(out, inputs[i], i, sum, err);
    if (!status && sqlite3_exec(results_db(out), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        status = results_sql_fail(out, "committing the merge", err);
    if (status && !sqlite3_get_autocommit(results_db(out)))
        sqlite3_exec(results_db(out), "ROLLBACK", NULL, NULL, NULL);
    inputs_detach(out, attached);
    return status;
}
