/* results.c: the results database (schema in results.h). Opens and checks a
 * database file, creates the schema, writes one run per transaction and reads
 * runs back for report and check. It does not decide what a run is or
 * whether to skip one (the driver does), and it prints nothing. */
#include "analysis/results.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rng.h"

#ifndef STRAGSIM_VERSION
#define STRAGSIM_VERSION "unknown"
#endif

/* Statements a write reuses, prepared on first use and kept until close. */
enum results_stmt {
    STMT_INSERT_RUN,
    STMT_INSERT_PARAM,
    STMT_INSERT_METRIC,
    STMT_INSERT_JOB,
    STMT_INSERT_ITERATION,
    STMT_INSERT_TUNER,
    STMT_HAS_RUN,
    STMT_RUN_METRIC,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_INSERT_RUN] = "INSERT INTO runs(experiment_id, point_key, repeat, seed, workload, scheme,"
                        " wall_seconds, created_at) VALUES(?, ?, ?, ?, ?, ?, ?,"
                        " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    [STMT_INSERT_PARAM] = "INSERT INTO params(run_id, key, value) VALUES(?, ?, ?)",
    [STMT_INSERT_METRIC] = "INSERT INTO metrics(run_id, name, value) VALUES(?, ?, ?)",
    [STMT_INSERT_JOB] = "INSERT INTO jobs(run_id, job, arrival, latency, tasks, extra)"
                        " VALUES(?, ?, ?, ?, ?, ?)",
    [STMT_INSERT_ITERATION] = "INSERT INTO iterations(run_id, iteration, sim_time, loss, accuracy,"
                              " waited, residual, grad_rel_err, staleness)"
                              " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [STMT_INSERT_TUNER] = "INSERT INTO tuner(run_id, decision, iteration, sim_time, key, value,"
                          " reason) VALUES(?, ?, ?, ?, ?, ?, ?)",
    [STMT_HAS_RUN] = "SELECT 1 FROM runs WHERE point_key = ?",
    [STMT_RUN_METRIC] = "SELECT m.value FROM runs r JOIN metrics m ON m.run_id = r.id"
                        " WHERE r.point_key = ? AND m.name = ?",
};

/* params and metrics keep their rowid so that reading back in rowid order
 * gives the order they were written in (config order, workload order); the
 * bulk tables (jobs, iterations) are clustered on their key instead. */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS experiments(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  config_text TEXT NOT NULL,\n"
    "  config_hash TEXT NOT NULL,\n"
    "  tool_version TEXT NOT NULL,\n"
    "  created_at TEXT NOT NULL,\n"
    "  UNIQUE(name, config_hash));\n"
    "CREATE TABLE IF NOT EXISTS runs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(id),\n"
    "  point_key TEXT NOT NULL UNIQUE,\n"
    "  repeat INTEGER NOT NULL,\n"
    "  seed INTEGER NOT NULL,\n"
    "  workload TEXT,\n"
    "  scheme TEXT,\n"
    "  wall_seconds REAL,\n"
    "  created_at TEXT NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs(experiment_id);\n"
    "CREATE TABLE IF NOT EXISTS params(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  key TEXT NOT NULL,\n"
    "  value TEXT NOT NULL,\n"
    "  UNIQUE(run_id, key));\n"
    "CREATE INDEX IF NOT EXISTS params_by_key ON params(key, value);\n"
    "CREATE TABLE IF NOT EXISTS metrics(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"
    "  value REAL,\n"
    "  UNIQUE(run_id, name));\n"
    "CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(name);\n"
    "CREATE TABLE IF NOT EXISTS jobs(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  job INTEGER NOT NULL,\n"
    "  arrival REAL,\n"
    "  latency REAL,\n"
    "  tasks INTEGER,\n"
    "  extra REAL,\n"
    "  PRIMARY KEY(run_id, job)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS iterations(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  iteration INTEGER NOT NULL,\n"
    "  sim_time REAL,\n"
    "  loss REAL,\n"
    "  accuracy REAL,\n"
    "  waited INTEGER,\n"
    "  residual REAL,\n"
    "  grad_rel_err REAL,\n"
    "  staleness REAL,\n"
    "  PRIMARY KEY(run_id, iteration)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS tuner(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  decision INTEGER NOT NULL,\n"
    "  iteration INTEGER,\n"
    "  sim_time REAL,\n"
    "  key TEXT,\n"
    "  value REAL,\n"
    "  reason TEXT,\n"
    "  PRIMARY KEY(run_id, decision)) WITHOUT ROWID;\n";

struct results {
    sqlite3 *db;
    char *path;
    bool read_only;
    bool must_exist; /* results_open_existing: never creates the schema */
    sqlite3_stmt *stmt[STMT_COUNT];
};

/* strerror with a lower-case first letter, to fit "path: what is wrong". */
static const char *errno_text(int e, char *buf, size_t len)
{
    snprintf(buf, len, "%s", strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

/* For a path whose parent chain is broken (ENOENT / ENOTDIR): names the
 * problem, "directory 'a/b' does not exist" or "'a/f' is not a directory". */
static int path_parent_problem(const char *path, const char *verb, struct error *err)
{
    char *copy = strdup(path);
    if (!copy)
        return error_fail(err, "out of memory");
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dirname(copy));
    free(copy);

    /* Walk up to the deepest ancestor that exists. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", parent);
    struct stat st;
    while (stat(dir, &st) != 0 && strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0) {
        char *up = strdup(dir);
        if (!up)
            return error_fail(err, "out of memory");
        snprintf(dir, sizeof dir, "%s", dirname(up));
        free(up);
    }
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return error_at(err, path, 0, "cannot %s: '%s' is not a directory", verb, dir);
    if (stat(parent, &st) != 0)
        return error_at(err, path, 0, "cannot %s: directory '%s' does not exist", verb, parent);
    return 0;
}

/* Checks the file system side before SQLite sees the path, so each bad path
 * gets its own one-line message instead of "unable to open database file". */
static int path_check(const char *path, bool read_only, struct error *err)
{
    char why[256];
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return error_at(err, path, 0, "is a directory");
        if (!S_ISREG(st.st_mode))
            return error_at(err, path, 0, "not a regular file");
        if (access(path, read_only ? R_OK : R_OK | W_OK) != 0)
            return error_at(err, path, 0, "cannot %s: %s", read_only ? "read" : "write",
                            errno_text(errno, why, sizeof why));
        return 0;
    }
    int e = errno;
    if (e == ENOTDIR || (e == ENOENT && !read_only)) {
        int rc = path_parent_problem(path, read_only ? "open" : "create", err);
        if (rc)
            return rc;
    }
    if (e == ENOENT && read_only)
        return error_at(err, path, 0, "no such file");
    if (e != ENOENT)
        return error_at(err, path, 0, "%s", errno_text(e, why, sizeof why));

    /* A new file: its directory must let us create it (and the -wal, -shm files). */
    char *copy = strdup(path);
    if (!copy)
        return error_fail(err, "out of memory");
    int ok = access(dirname(copy), W_OK | X_OK) == 0;
    e = errno;
    free(copy);
    if (!ok)
        return error_at(err, path, 0, "cannot create: %s", errno_text(e, why, sizeof why));
    return 0;
}

/* Maps a failed SQLite call to an error: problems with the file itself are
 * bad input (STRAG_EINPUT), anything else an internal failure. */
static int sql_fail(struct results *r, const char *doing, struct error *err)
{
    int code = sqlite3_errcode(r->db) & 0xff;
    const char *msg = sqlite3_errmsg(r->db);
    switch (code) {
    case SQLITE_NOTADB:
        return error_at(err, r->path, 0, "not a stragsim results database (%s)", msg);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return error_at(err, r->path, 0, "cannot write: %s", msg);
    case SQLITE_CORRUPT:
        return error_at(err, r->path, 0, "damaged database (%s)", msg);
    default:
        return error_fail(err, "%s: %s: %s", r->path, doing, msg);
    }
}

int results_sql_fail(struct results *r, const char *doing, struct error *err)
{
    return sql_fail(r, doing, err);
}

static int exec_sql(struct results *r, const char *sql, const char *doing, struct error *err)
{
    if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(r, doing, err);
    return 0;
}

/* Runs a query whose answer is one integer (count(*) and the like). */
static int query_int(struct results *r, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Decides whether the open file is ours: empty (only when we may create the
 * schema), or carrying a meta table with our schema version. */
static int schema_check(struct results *r, struct error *err)
{
    int64_t ntables = 0, has_meta = 0;
    if (query_int(r, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &ntables) != 0) {
        int code = sqlite3_errcode(r->db) & 0xff;
        if (code == SQLITE_NOTADB || code == SQLITE_ERROR)
            return error_at(err, r->path, 0, "not a stragsim results database (%s)",
                            sqlite3_errmsg(r->db));
        return sql_fail(r, "reading the schema", err);
    }
    query_int(r, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
              &has_meta);
    if (!has_meta) {
        if (ntables == 0 && !r->read_only && !r->must_exist)
            return 0; /* a new (or empty) file: the schema is created next */
        return error_at(err, r->path, 0, "not a stragsim results database (no meta table)");
    }

    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return error_at(err, r->path, 0, "not a stragsim results database (%s)",
                        sqlite3_errmsg(r->db));
    int rc = sqlite3_step(st);
    int status = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        char *end = NULL;
        long version = v ? strtol(v, &end, 10) : -1;
        if (!v || end == v || *end != '\0')
            status =
                error_at(err, r->path, 0,
                         "not a stragsim results database (bad schema_version '%s')", v ? v : "");
        else if (version != RESULTS_SCHEMA_VERSION)
            status =
                error_at(err, r->path, 0,
                         "results database schema version %ld, this stragsim (%s) reads version %d",
                         version, STRAGSIM_VERSION, RESULTS_SCHEMA_VERSION);
    } else if (rc == SQLITE_DONE) {
        status = error_at(err, r->path, 0,
                          "not a stragsim results database (no schema_version in meta)");
    } else {
        status = sql_fail(r, "reading meta", err);
    }
    sqlite3_finalize(st);
    return status;
}

/* Creates the tables (idempotent) and stamps meta, in one transaction. */
static int schema_create(struct results *r, struct error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = exec_sql(r, "PRAGMA journal_mode = WAL", "setting WAL mode", err);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(r->db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(r, "reading the journal mode", err);
    bool wal = sqlite3_step(st) == SQLITE_ROW &&
               strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal)
        return error_at(err, r->path, 0, "cannot use WAL journal mode on this file system");

    rc = exec_sql(r, "BEGIN IMMEDIATE", "starting a transaction", err);
    if (rc)
        return rc;
    /* Re-check inside the write lock: another process may have created it. */
    rc = schema_check(r, err);
    if (!rc)
        rc = exec_sql(r, schema_sql, "creating the schema", err);
    if (!rc) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '%d'),"
                 " ('created_by', 'stragsim %s')",
                 RESULTS_SCHEMA_VERSION, STRAGSIM_VERSION);
        rc = exec_sql(r, sql, "writing meta", err);
    }
    if (!rc)
        rc = exec_sql(r, "COMMIT", "committing the schema", err);
    if (rc && !sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A reader opens the file read-write (but query_only) when it may, because
 * only a read-write connection, closing last, checkpoints the WAL and removes
 * the -wal and -shm files: a `stragsim report` should not leave them behind. */
static bool can_tidy_wal(const char *path)
{
    char *copy = strdup(path);
    bool ok = copy && access(path, W_OK) == 0 && access(dirname(copy), W_OK | X_OK) == 0;
    free(copy);
    return ok;
}

static int results_open_as(const char *path, bool read_only, bool must_exist,
                           struct results **out, struct error *err)
{
    *out = NULL;
    if (!path || !*path)
        return error_at(err, NULL, 0, "results database path is empty");
    /* an existing file to change: missing is "no such file", not a new db */
    int rc = must_exist ? path_check(path, true, err) : 0;
    if (!rc)
        rc = path_check(path, read_only, err);
    if (rc)
        return rc;

    struct results *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return error_fail(err, "out of memory");
    }
    r->read_only = read_only;
    r->must_exist = must_exist;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (read_only)
        flags = can_tidy_wal(path) ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &r->db, flags, NULL) != SQLITE_OK) {
        rc = r->db ? error_at(err, path, 0, "cannot open: %s", sqlite3_errmsg(r->db))
                   : error_fail(err, "out of memory");
        results_close(r);
        return rc;
    }
    sqlite3_extended_result_codes(r->db, 1);
    /* Sweeps on several processes (MPI ranks) share one file: wait for the
     * writer holding the lock instead of failing. */
    sqlite3_busy_timeout(r->db, 30000);

    rc = schema_check(r, err);
    if (!rc && !read_only)
        rc = schema_create(r, err);
    /* synchronous = NORMAL: in WAL mode a commit survives a killed process
     * (what --resume relies on) without an fsync per run; only a power cut
     * can lose the last few runs, never corrupt the file. */
    if (!rc)
        rc = exec_sql(r,
                      read_only ? "PRAGMA foreign_keys = ON; PRAGMA query_only = ON"
                                : "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL",
                      "setting up the connection", err);
    if (rc) {
        results_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int results_open(const char *path, bool read_only, struct results **out, struct error *err)
{
    return results_open_as(path, read_only, false, out, err);
}

int results_open_existing(const char *path, struct results **out, struct error *err)
{
    return results_open_as(path, false, true, out, err);
}

void results_close(struct results *r)
{
    if (!r)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(r->stmt[i]);
    sqlite3_close(r->db);
    free(r->path);
    free(r);
}

struct sqlite3 *results_db(struct results *r) { return r->db; }

const char *results_path(const struct results *r) { return r->path; }

/* The cached statement `which`, reset and with bindings cleared. */
static sqlite3_stmt *stmt_get(struct results *r, enum results_stmt which, struct error *err)
{
    sqlite3_stmt *st = r->stmt[which];
    if (!st) {
        if (sqlite3_prepare_v3(r->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            sql_fail(r, "preparing a statement", err);
            return NULL;
        }
        r->stmt[which] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Steps an INSERT to completion; the statement is left reset. */
static int stmt_run(struct results *r, sqlite3_stmt *st, const char *doing, struct error *err)
{
    int rc = sqlite3_step(st);
    int status = rc == SQLITE_DONE ? 0 : sql_fail(r, doing, err);
    sqlite3_reset(st);
    return status;
}

/* NaN is stored as NULL (SQL has no NaN; readers get NAN back). */
static void bind_real(sqlite3_stmt *st, int i, double x)
{
    if (isnan(x))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, x);
}

int results_experiment(struct results *r, const char *name, const char *config_text,
                       int64_t *experiment_id, struct error *err)
{
    if (!name || !config_text)
        return error_fail(err, "results_experiment: name and config text are required");
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)rng_hash_string(config_text));

    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(
            r->db,
            "INSERT INTO experiments(name, config_text, config_hash, tool_version,"
            " created_at) VALUES(?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
            " ON CONFLICT(name, config_hash) DO NOTHING",
            -1, &st, NULL) != SQLITE_OK)
        return sql_fail(r, "recording the experiment", err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, config_text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, STRAGSIM_VERSION, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sql_fail(r, "recording the experiment", err);
    sqlite3_finalize(st);
    if (rc)
        return rc;

    if (sqlite3_prepare_v2(r->db, "SELECT id FROM experiments WHERE name = ?1 AND config_hash = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(r, "finding the experiment", err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *experiment_id = sqlite3_column_int64(st, 0);
    else
        rc = sql_fail(r, "finding the experiment", err);
    sqlite3_finalize(st);
    return rc;
}

int results_experiment_points(struct results *r, int64_t experiment_id, size_t points,
                              struct error *err)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO meta(key, value) VALUES('" RESULTS_POINTS_META "%lld', '%zu')",
             (long long)experiment_id, points);
    return exec_sql(r, sql, "recording the experiment's points", err);
}

bool results_has_run(struct results *r, const char *point_key)
{
    struct error ignored;
    sqlite3_stmt *st = stmt_get(r, STMT_HAS_RUN, &ignored);
    if (!st || !point_key)
        return false;
    sqlite3_bind_text(st, 1, point_key, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

bool results_run_metric(struct results *r, const char *point_key, const char *name,
                        double *value)
{
    struct error ignored;
    sqlite3_stmt *st = stmt_get(r, STMT_RUN_METRIC, &ignored);
    if (!st || !point_key || !name)
        return false;
    sqlite3_bind_text(st, 1, point_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        *value = sqlite3_column_type(st, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);
    sqlite3_reset(st);
    return found;
}

/* The rows of one run; the caller holds the transaction. */
static int run_insert_rows(struct results *r, int64_t experiment_id, const struct run_record *rec,
                           struct error *err)
{
    sqlite3_stmt *st = stmt_get(r, STMT_INSERT_RUN, err);
    if (!st)
        return STRAG_EFAIL;
    sqlite3_bind_int64(st, 1, experiment_id);
    sqlite3_bind_text(st, 2, rec->point_key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, rec->repeat);
    /* SQLite integers are signed 64-bit: seeds >= 2^63 read back negative,
     * with the same bits. */
    sqlite3_bind_int64(st, 4, (sqlite3_int64)rec->seed);
    sqlite3_bind_text(st, 5, params_get(rec->params, "workload.kind"), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, params_get(rec->params, "scheme.kind"), -1, SQLITE_STATIC);
    bind_real(st, 7, rec->wall_seconds);
    if (sqlite3_step(st) != SQLITE_DONE) {
        int rc = sqlite3_extended_errcode(r->db) == SQLITE_CONSTRAINT_UNIQUE
                     ? error_at(err, r->path, 0, "point %s is already stored", rec->point_key)
                     : sql_fail(r, "writing the run", err);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    int64_t run_id = sqlite3_last_insert_rowid(r->db);

    int rc = 0;
    if (!(st = stmt_get(r, STMT_INSERT_PARAM, err)))
        return STRAG_EFAIL;
    for (size_t i = 0; !rc && i < params_count(rec->params); i++) {
        const char *value = params_value_at(rec->params, i);
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_text(st, 2, params_key_at(rec->params, i), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, value ? value : "", -1, SQLITE_STATIC);
        rc = stmt_run(r, st, "writing params", err);
    }

    if (!rc && !(st = stmt_get(r, STMT_INSERT_METRIC, err)))
        return STRAG_EFAIL;
    for (size_t i = 0; !rc && i < rec->metrics->n; i++) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_text(st, 2, rec->metrics->names[i], -1, SQLITE_STATIC);
        bind_real(st, 3, rec->metrics->values[i]);
        rc = stmt_run(r, st, "writing metrics", err);
    }

    if (!rc && rec->njobs && !(st = stmt_get(r, STMT_INSERT_JOB, err)))
        return STRAG_EFAIL;
    for (size_t i = 0; !rc && i < rec->njobs; i++) {
        const struct job_row *j = &rec->jobs[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)j->job);
        bind_real(st, 3, j->arrival);
        bind_real(st, 4, j->latency);
        sqlite3_bind_int(st, 5, j->tasks);
        bind_real(st, 6, j->extra);
        rc = stmt_run(r, st, "writing jobs", err);
    }

    if (!rc && rec->niterations && !(st = stmt_get(r, STMT_INSERT_ITERATION, err)))
        return STRAG_EFAIL;
    for (size_t i = 0; !rc && i < rec->niterations; i++) {
        const struct iteration_row *it = &rec->iterations[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, it->iteration);
        bind_real(st, 3, it->sim_time);
        bind_real(st, 4, it->loss);
        bind_real(st, 5, it->accuracy);
        sqlite3_bind_int(st, 6, it->waited);
        bind_real(st, 7, it->residual);
        bind_real(st, 8, it->grad_rel_err);
        bind_real(st, 9, it->staleness);
        rc = stmt_run(r, st, "writing iterations", err);
    }

    if (!rc && rec->ntuner && !(st = stmt_get(r, STMT_INSERT_TUNER, err)))
        return STRAG_EFAIL;
    for (size_t i = 0; !rc && i < rec->ntuner; i++) {
        const struct tuner_row *d = &rec->tuner[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_int64(st, 3, d->iteration);
        bind_real(st, 4, d->sim_time);
        sqlite3_bind_text(st, 5, d->key, -1, SQLITE_STATIC);
        bind_real(st, 6, d->value);
        sqlite3_bind_text(st, 7, d->reason, -1, SQLITE_STATIC);
        rc = stmt_run(r, st, "writing tuner decisions", err);
    }
    return rc;
}

int results_write_run(struct results *r, int64_t experiment_id, const struct run_record *rec,
                      struct error *err)
{
    if (r->read_only)
        return error_fail(err, "%s: opened read-only, cannot write a run", r->path);
    if (!rec->point_key || !rec->params || !rec->metrics || (rec->njobs && !rec->jobs) ||
        (rec->niterations && !rec->iterations) || (rec->ntuner && !rec->tuner))
        return error_fail(err, "results_write_run: incomplete run record");

    int rc = exec_sql(r, "BEGIN IMMEDIATE", "starting a transaction", err);
    if (rc)
        return rc;
    rc = run_insert_rows(r, experiment_id, rec, err);
    if (!rc)
        rc = exec_sql(r, "COMMIT", "committing the run", err);
    if (rc && !sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- Reading back ---- */

void results_runs_free(struct results_run *runs, size_t nruns)
{
    if (!runs)
        return;
    for (size_t i = 0; i < nruns; i++) {
        free(runs[i].point_key);
        params_free(runs[i].params);
        metric_list_clear(&runs[i].metrics);
    }
    free(runs);
}

/* Index of the run with this id in `runs` (sorted by id), or -1. */
static ptrdiff_t run_find(const struct results_run *runs, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (runs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && runs[lo].id == id ? (ptrdiff_t)lo : -1;
}

/* Rows (run_id, name, value) of params or metrics, attached to their runs. */
static int runs_attach(struct results *r, struct results_run *runs, size_t n, bool metrics,
                       struct error *err)
{
    const char *sql = metrics ? "SELECT run_id, name, value FROM metrics ORDER BY run_id, rowid"
                              : "SELECT run_id, key, value FROM params ORDER BY run_id, rowid";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(r, "reading runs", err);
    int rc, status = 0;
    ptrdiff_t at = -1;
    while (!status && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (at < 0 || runs[at].id != id)
            at = run_find(runs, n, id);
        if (at < 0)
            continue; /* orphan row (foreign keys were off when it was written) */
        const char *name = (const char *)sqlite3_column_text(st, 1);
        int fail;
        if (metrics) {
            double v =
                sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
            fail = metric_list_set(&runs[at].metrics, name ? name : "", v);
        } else {
            const char *v = (const char *)sqlite3_column_text(st, 2);
            fail = params_set(runs[at].params, name ? name : "", v ? v : "", NULL, 0);
        }
        if (fail)
            status = error_fail(err, "out of memory");
    }
    if (!status && rc != SQLITE_DONE)
        status = sql_fail(r, "reading runs", err);
    sqlite3_finalize(st);
    return status;
}

int results_read_runs(struct results *r, struct results_run **out, size_t *nout, struct error *err)
{
    *out = NULL;
    *nout = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT id, point_key, repeat, wall_seconds, experiment_id FROM runs ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        return sql_fail(r, "reading runs", err);
    struct results_run *runs = NULL;
    size_t n = 0, cap = 0;
    int rc, status = 0;
    while (!status && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            struct results_run *nr = realloc(runs, nc * sizeof *nr);
            if (!nr) {
                status = error_fail(err, "out of memory");
                break;
            }
            runs = nr;
            cap = nc;
        }
        struct results_run *run = &runs[n++];
        *run = (struct results_run){.id = sqlite3_column_int64(st, 0),
                                    .repeat = sqlite3_column_int(st, 2),
                                    .wall_seconds = sqlite3_column_type(st, 3) == SQLITE_NULL
                                                        ? NAN
                                                        : sqlite3_column_double(st, 3),
                                    .experiment_id = sqlite3_column_int64(st, 4)};
        const char *key = (const char *)sqlite3_column_text(st, 1);
        run->point_key = strdup(key ? key : "");
        run->params = params_new();
        if (!run->point_key || !run->params)
            status = error_fail(err, "out of memory");
    }
    if (!status && rc != SQLITE_DONE)
        status = sql_fail(r, "reading runs", err);
    sqlite3_finalize(st);
    if (!status)
        status = runs_attach(r, runs, n, false, err);
    if (!status)
        status = runs_attach(r, runs, n, true, err);
    if (status) {
        results_runs_free(runs, n);
        return status;
    }
    *out = runs;
    *nout = n;
    return 0;
}
