/* catalog.c: the experiments of a results database and their runs, as a
 * text table or JSON (see catalog.h). */
#include "analysis/catalog.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/json.h"
#include "analysis/match.h"
#include "analysis/report.h"

struct experiment {
    int64_t id;
    char *name, *created, *version, *hash;
    size_t runs;
    long points; /* distinct points of its config; -1 unknown */
};

static void experiments_free(struct experiment *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].name);
        free(e[i].created);
        free(e[i].version);
        free(e[i].hash);
    }
    free(e);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return strdup(s ? s : "");
}

static int experiments_read(struct results *r, struct experiment **out, size_t *nout,
                            struct error *err)
{
    *out = NULL;
    *nout = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(results_db(r),
                           "SELECT e.id, e.name, e.created_at, e.tool_version, e.config_hash,"
                           " (SELECT count(*) FROM runs WHERE experiment_id = e.id),"
                           " (SELECT value FROM meta WHERE key = '" RESULTS_POINTS_META
                           "' || e.id) FROM experiments e ORDER BY e.id",
                           -1, &st, NULL) != SQLITE_OK)
        return results_sql_fail(r, "reading experiments", err);
    struct experiment *e = NULL;
    size_t n = 0;
    int rc, status = 0;
    while (!status && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct experiment *grown = realloc(e, (n + 1) * sizeof *grown);
        if (!grown) {
            status = error_fail(err, "out of memory");
            break;
        }
        e = grown;
        struct experiment *x = &e[n++];
        *x = (struct experiment){
            .id = sqlite3_column_int64(st, 0), .name = column_dup(st, 1),
            .created = column_dup(st, 2), .version = column_dup(st, 3),
            .hash = column_dup(st, 4), .runs = (size_t)sqlite3_column_int64(st, 5),
            .points = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1
                                                                : sqlite3_column_int64(st, 6)};
        if (!x->name || !x->created || !x->version || !x->hash)
            status = error_fail(err, "out of memory");
    }
    if (!status && rc != SQLITE_DONE)
        status = results_sql_fail(r, "reading experiments", err);
    sqlite3_finalize(st);
    if (status) {
        experiments_free(e, n);
        return status;
    }
    *out = e;
    *nout = n;
    return 0;
}

static const char *finished_text(const struct experiment *e, char *buf, size_t len)
{
    if (e->points < 0)
        return "?";
    if (e->runs >= (size_t)e->points)
        return "yes";
    snprintf(buf, len, "no (%zu of %ld)", e->runs, e->points);
    return buf;
}

/* The runs of experiment id (pointers into runs), in id order. */
static size_t experiment_runs(const struct results_run *runs, size_t nruns, int64_t id,
                              const struct results_run **mine)
{
    size_t k = 0;
    for (size_t i = 0; i < nruns; i++)
        if (runs[i].experiment_id == id)
            mine[k++] = &runs[i];
    return k;
}

/* The runs of one experiment, labelled by the params that vary among them. */
static int runs_write(const struct results_run *const *mine, size_t n, bool json, FILE *out)
{
    const char **keys = NULL;
    size_t nkeys = 0;
    bool repeat_varies;
    if (match_label_keys(mine, n, &keys, &nkeys, &repeat_varies))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (json) {
            fprintf(out, "%s{\"id\": %lld, \"point_key\": ", i ? ", " : "",
                    (long long)mine[i]->id);
            json_string(out, mine[i]->point_key);
            fprintf(out, ", \"repeat\": %d, \"params\": {", mine[i]->repeat);
            size_t shown = 0;
            for (size_t k = 0; k < nkeys; k++) {
                const char *v = params_get(mine[i]->params, keys[k]);
                if (!v)
                    continue;
                fputs(shown++ ? ", " : "", out);
                json_string(out, keys[k]);
                fputs(": ", out);
                json_value(out, v);
            }
            fputs("}}", out);
            continue;
        }
        char *label = match_label(mine[i], keys, nkeys, true);
        if (!label) {
            free(keys);
            return -1;
        }
        fprintf(out, "  run %-6lld %s\n", (long long)mine[i]->id, label);
        free(label);
    }
    free(keys);
    return 0;
}

static void note_same_names(const struct experiment *e, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        bool first = true;
        size_t same = 0;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(e[j].name, e[i].name) != 0)
                continue;
            first = first && j >= i;
            same++;
        }
        if (!first || same < 2)
            continue;
        fprintf(out, "note: %zu experiments are named '%s' (ids", same, e[i].name);
        for (size_t j = i; j < n; j++)
            if (strcmp(e[j].name, e[i].name) == 0)
                fprintf(out, " %lld", (long long)e[j].id);
        fputs("): their configs differ (config hash)\n", out);
    }
}

/* Column widths of the text table (at least the header's). */
struct widths {
    int name, created, version;
};

static struct widths widths_of(const struct experiment *e, size_t n)
{
    struct widths w = {4, 7, 7};
    for (size_t i = 0; i < n; i++) {
        w.name = (int)strlen(e[i].name) > w.name ? (int)strlen(e[i].name) : w.name;
        w.created = (int)strlen(e[i].created) > w.created ? (int)strlen(e[i].created) : w.created;
        w.version = (int)strlen(e[i].version) > w.version ? (int)strlen(e[i].version) : w.version;
    }
    return w;
}

static void text_header(const struct widths *w, FILE *out)
{
    fprintf(out, "%-4s  %-*s  %-*s  %-*s  %-16s  %6s  %s\n", "id", w->name, "name", w->created,
            "created", w->version, "version", "config", "runs", "finished");
}

static void text_row(const struct experiment *e, const struct widths *w, FILE *out)
{
    char buf[64];
    fprintf(out, "%-4lld  %-*s  %-*s  %-*s  %-16s  %6zu  %s\n", (long long)e->id, w->name,
            e->name, w->created, e->created, w->version, e->version, e->hash, e->runs,
            finished_text(e, buf, sizeof buf));
}

static void json_experiment(const struct experiment *e, FILE *out)
{
    fprintf(out, "{\"id\": %lld, \"name\": ", (long long)e->id);
    json_string(out, e->name);
    fputs(", \"created\": ", out);
    json_string(out, e->created);
    fputs(", \"tool_version\": ", out);
    json_string(out, e->version);
    fputs(", \"config_hash\": ", out);
    json_string(out, e->hash);
    fprintf(out, ", \"runs\": %zu, \"points\": ", e->runs);
    if (e->points < 0)
        fputs("null, \"finished\": null", out);
    else
        fprintf(out, "%ld, \"finished\": %s", e->points,
                e->runs >= (size_t)e->points ? "true" : "false");
}

int catalog_write(struct results *r, const struct catalog_options *opt, FILE *out,
                  struct error *err)
{
    struct experiment *e = NULL;
    size_t n = 0, nruns = 0;
    struct results_run *runs = NULL;
    const struct results_run **mine = NULL;
    int status = experiments_read(r, &e, &n, err);
    if (!status && opt->runs)
        status = results_read_runs(r, &runs, &nruns, err);
    if (!status && opt->runs && !(mine = malloc((nruns ? nruns : 1) * sizeof *mine)))
        status = error_fail(err, "out of memory");
    if (status) {
        experiments_free(e, n);
        results_runs_free(runs, nruns);
        return status;
    }
    bool oom = false;
    struct widths w = widths_of(e, n);
    if (opt->json) {
        fputs("{\"db\": ", out);
        json_string(out, results_path(r));
        fputs(", \"experiments\": [", out);
    } else if (!opt->runs && n) {
        text_header(&w, out);
    }
    for (size_t i = 0; i < n && !oom; i++) {
        if (opt->json) {
            fputs(i ? ",\n  " : "\n  ", out);
            json_experiment(&e[i], out);
        } else {
            if (opt->runs && i)
                fputc('\n', out);
            if (opt->runs)
                text_header(&w, out);
            text_row(&e[i], &w, out);
        }
        if (opt->runs) {
            size_t k = experiment_runs(runs, nruns, e[i].id, mine);
            if (opt->json)
                fputs(", \"run_list\": [", out);
            oom = runs_write(mine, k, opt->json, out) != 0;
            if (opt->json)
                fputs("]", out);
        }
        if (opt->json)
            fputs("}", out);
    }
    if (opt->json)
        fputs(n ? "\n]}\n" : "]}\n", out);
    else if (n == 0)
        fprintf(out, "(no experiments in %s)\n", results_path(r));
    else
        note_same_names(e, n, out);
    free(mine);
    experiments_free(e, n);
    results_runs_free(runs, nruns);
    return oom ? error_fail(err, "out of memory") : 0;
}
