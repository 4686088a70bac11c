/* cmd_advise.c: `stragsim advise CONFIG [-o best.ini] [--db DB] [--explain]`:
 * reads the [advise] section and the candidates (advise_spec.c), runs the
 * search (advise_search.c), then prints the Pareto front of the evaluated
 * candidates and the recommendation with its reasons, and writes the
 * recommended configuration as an ini file that `stragsim run` takes. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/aggregate.h"
#include "analysis/plot.h"
#include "app/advise.h"
#include "app/cli.h"
#include "app/commands.h"
#include "app/config.h"
#include "app/stop.h"
#include "base/atomic_file.h"
#include "schemes/scheme.h"
#include "workloads/workload.h"

static const char advise_usage[] =
    "usage: stragsim advise CONFIG.ini [-o BEST.ini] [--db DB] [--explain] [--plot FIG]\n"
    "\n"
    "Which scheme, with which parameters, to run for the config's workers\n"
    "(latency source or trace), workload, model, load and cluster. The config's\n"
    "[advise] section says what is wanted:\n"
    "  objective   = METRIC            minimised: latency_p99 (default), latency_mean,\n"
    "                                  latency_p50, latency_p999, worker_seconds,\n"
    "                                  time_to_target (training)\n"
    "  constraints = accuracy >= 0.88, latency_p99 <= 2   (optional)\n"
    "  schemes     = kofn, replication (default: every scheme that runs the workload)\n"
    "  budget      = SECONDS           computing the search may spend (default 600)\n"
    "  batches     = B0                batches of every candidate in round 1 (default 3)\n"
    "  max_batches = BMAX              the most batches a candidate gets (default 48)\n"
    "\n"
    "Candidates are every scheme's search grid (stragsim config --list shows the\n"
    "keys; the grids are in doc/advise.md) at every point of the config's sweep.\n"
    "A batch is one repeat of a candidate's point (workload.jobs jobs); with\n"
    "experiment.common_streams, batch b of every candidate meets the same\n"
    "arrivals, stragglers and queries, so candidates are compared by paired\n"
    "differences. Successive halving: every candidate gets B0 batches, then the\n"
    "survivors twice as many, until one is left whose 95% intervals meet the\n"
    "constraints, the leader has BMAX batches, or the budget is spent. Every\n"
    "batch is an ordinary point of DB: a rerun reuses them.\n"
    "\n"
    "  -o, --output INI  write the recommended configuration (a config for\n"
    "                    stragsim run, experiment.repeats = its batches)\n"
    "  --db DB           results database (default: experiment.db, else results.db)\n"
    "  --explain         print the rounds: every candidate's objective, and why\n"
    "                    each dropped one was dropped\n"
    "  --plot FIG.png    draw every evaluated candidate (.png or .svg): objective\n"
    "                    against accuracy (else worker_seconds), 95% bars, the\n"
    "                    Pareto front joined and labelled, recommended ringed,\n"
    "                    constraint lines dashed; its data beside it in FIG.dat\n"
    "  -h, --help        this text\n"
    "\n"
    "The advice depends only on the config and its seed, unless the budget ends\n"
    "the search. Single process (no MPI).\n"
    "Exit status: 0 advice given, 1 no candidate meets the constraints (or an\n"
    "internal failure), 2 bad usage or bad input; a stop signal: 128 + it.\n";

/* "0.3451 ± 0.0021", or "-" for a metric that is not there. */
static void ci_cell(const struct ci *ci, char *out, size_t len)
{
    if (isnan(ci->mean))
        snprintf(out, len, "-");
    else if (isnan(ci->half_width))
        snprintf(out, len, "%.4g", ci->mean);
    else
        snprintf(out, len, "%.4g ± %.2g", ci->mean, ci->half_width);
}

/* a dominates b: no worse in every front metric (objective and
 * worker_seconds lower, accuracy higher), better in one; by means. */
static bool dominates(const struct advise_spec *s, const struct advise_candidate *a,
                      const struct advise_candidate *b)
{
    size_t at[3] = {0, s->worker_seconds_at, s->accuracy_at};
    bool better = false;
    for (size_t k = 0; k < 3; k++) {
        if (at[k] == SIZE_MAX || (k == 1 && at[k] == 0))
            continue;
        struct ci ca, cb;
        advise_metric_ci(a, at[k], a->batches, &ca);
        advise_metric_ci(b, at[k], b->batches, &cb);
        /* a metric that is not there (a target never reached) is the worst */
        double x = isnan(ca.mean) ? INFINITY : k == 2 ? -ca.mean : ca.mean;
        double y = isnan(cb.mean) ? INFINITY : k == 2 ? -cb.mean : cb.mean;
        if (x > y)
            return false;
        better |= x < y;
    }
    return better;
}

/* Candidate i was evaluated and no other evaluated candidate dominates it. */
static bool on_front(const struct advise_spec *s, const struct advise_candidate *cands, size_t n,
                     size_t i)
{
    if (cands[i].invalid || !cands[i].batches)
        return false;
    for (size_t j = 0; j < n; j++)
        if (j != i && !cands[j].invalid && cands[j].batches && dominates(s, &cands[j], &cands[i]))
            return false;
    return true;
}

static void front_print(const struct advise_spec *s, const struct advise_candidate *cands,
                        size_t n, const struct advise_outcome *out, FILE *f)
{
    fprintf(f, "Pareto front (%s and worker_seconds%s; means ± 95%% half-widths over batches of "
               "%ld %s):\n",
            s->objective, s->accuracy_at != SIZE_MAX ? " against accuracy" : "", s->jobs, s->unit);
    fprintf(f, "%-34s %7s  %-20s %-20s %-20s %s\n", "candidate", "batches", s->objective,
            s->accuracy_at != SIZE_MAX ? s->metrics[s->accuracy_at] : "accuracy",
            "worker_seconds", "status");
    for (size_t i = 0; i < n; i++) {
        const struct advise_candidate *a = &cands[i];
        if (!on_front(s, cands, n, i))
            continue;
        struct ci obj, acc = {.mean = NAN}, ws;
        advise_metric_ci(a, 0, a->batches, &obj);
        if (s->accuracy_at != SIZE_MAX)
            advise_metric_ci(a, s->accuracy_at, a->batches, &acc);
        advise_metric_ci(a, s->worker_seconds_at, a->batches, &ws);
        char c1[64], c2[64], c3[64];
        ci_cell(&obj, c1, sizeof c1);
        ci_cell(&acc, c2, sizeof c2);
        ci_cell(&ws, c3, sizeof c3);
        struct advise_feasibility fe;
        advise_feasibility(s, a, a->batches, &fe);
        const char *status = (ptrdiff_t)i == out->best        ? "recommended"
                             : (ptrdiff_t)i == out->runner_up ? "runner-up"
                             : fe.fails                       ? "violates constraints"
                             : !fe.by_means                   ? "misses constraints (means)"
                             : a->dropped_round >= 0          ? "dropped"
                                                              : "left";
        fprintf(f, "%-34s %7zu  %-20s %-20s %-20s %s\n", a->label, a->batches, c1, c2, c3,
                status);
    }
}

/* The interval's bounds; one batch (no interval): the mean, so no bar. */
static void ci_bounds(const struct ci *c, double *lo, double *hi)
{
    double h = isnan(c->half_width) ? 0 : c->half_width;
    *lo = c->mean - h;
    *hi = c->mean + h;
}

/* --plot: every evaluated candidate, objective against accuracy (else
 * worker_seconds), the undominated ones joined, constraint lines on the
 * plotted metrics. */
static int front_plot(const struct advise_spec *s, const struct advise_candidate *cands,
                      size_t n, const struct advise_outcome *out, const char *path,
                      struct error *err)
{
    size_t ym = s->accuracy_at != SIZE_MAX ? s->accuracy_at : s->worker_seconds_at;
    struct plot_point *pts = calloc(n ? n : 1, sizeof *pts);
    double hl[ADVISE_CONSTRAINTS_MAX], vl[ADVISE_CONSTRAINTS_MAX];
    size_t np = 0, nh = 0, nv = 0;
    if (!pts)
        return error_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct advise_candidate *a = &cands[i];
        if (a->invalid || !a->batches)
            continue;
        bool dominated = !on_front(s, cands, n, i);
        struct ci x, y;
        advise_metric_ci(a, 0, a->batches, &x);
        advise_metric_ci(a, ym, a->batches, &y);
        struct plot_point *p = &pts[np++];
        *p = (struct plot_point){.label = a->label, .x = x.mean, .y = y.mean,
                                 .front = !dominated, .marked = (ptrdiff_t)i == out->best};
        ci_bounds(&x, &p->xlo, &p->xhi);
        ci_bounds(&y, &p->ylo, &p->yhi);
    }
    for (size_t k = 0; k < s->nconstraints; k++) {
        if (strcmp(s->constraints[k].metric, s->metrics[ym]) == 0)
            hl[nh++] = s->constraints[k].bound;
        else if (strcmp(s->constraints[k].metric, s->objective) == 0)
            vl[nv++] = s->constraints[k].bound;
    }
    char title[160];
    snprintf(title, sizeof title, "advise: %s against %s (95%% intervals)", s->objective,
             s->metrics[ym]);
    struct plot_points pp = {.points = pts, .n = np, .hlines = hl, .nhlines = nh, .vlines = vl,
                             .nvlines = nv, .output = path, .title = title,
                             .xlabel = s->objective, .ylabel = s->metrics[ym]};
    /* the data beside the figure (FIG.dat): what was drawn, one row a point */
    char *data = malloc(strlen(path) + 5);
    if (!data) {
        free(pts);
        return error_fail(err, "out of memory");
    }
    strcpy(data, path);
    char *dot = strrchr(data, '.');
    strcpy(dot ? dot : data + strlen(data), ".dat");
    pp.data = data;
    int rc = plot_points_make(&pp, stderr, err);
    free(data);
    free(pts);
    return rc;
}

static void advice_print(const struct advise_spec *s, const struct advise_candidate *cands,
                         size_t n, const struct advise_outcome *out, FILE *f)
{
    size_t valid = 0;
    for (size_t i = 0; i < n; i++)
        valid += !cands[i].invalid;
    const struct advise_candidate *best = &cands[out->best];
    struct ci obj;
    char t[64];
    advise_metric_ci(best, 0, best->batches, &obj);
    ci_cell(&obj, t, sizeof t);
    fprintf(f, "\nrecommended: %s\n", best->label);
    fprintf(f, "  %s %s over %zu batches (%zu %s)\n", s->objective, t, best->batches,
            best->batches * (size_t)s->jobs, s->unit);
    struct advise_feasibility fe;
    advise_feasibility(s, best, best->batches, &fe);
    if (fe.binding != SIZE_MAX) {
        const struct advise_constraint *c = &s->constraints[fe.binding];
        struct ci ci;
        for (size_t m = 0; m < s->nmetrics; m++)
            if (strcmp(s->metrics[m], c->metric) == 0)
                advise_metric_ci(best, m, best->batches, &ci);
        ci_cell(&ci, t, sizeof t);
        fprintf(f, "  binding constraint: %s %s %g: %s (%s by its 95%% interval)\n", c->metric,
                c->at_least ? ">=" : "<=", c->bound, t,
                fe.sure ? "met" : "met by the mean only, not");
    } else {
        fprintf(f, "  no constraints\n");
    }
    if (out->runner_up >= 0) {
        const struct advise_candidate *r = &cands[out->runner_up];
        size_t b = r->batches < best->batches ? r->batches : best->batches;
        struct ci d;
        advise_diff_ci(r, best, 0, b, &d);
        ci_cell(&d, t, sizeof t);
        bool sep = !isnan(d.half_width) && d.mean - d.half_width > 0;
        fprintf(f, "  runner-up: %s: %s higher by %s (paired, %zu batches; %s at 95%%)\n",
                r->label, s->objective, t, b, sep ? "separated" : "not separated");
    } else {
        fprintf(f, "  runner-up: none (no other candidate meets the constraints)\n");
    }
    fprintf(f, "  search: %d round%s, %zu batches (%zu %s) over %zu valid candidates; an "
               "exhaustive sweep at %zu batches each: %zu batches (%.2f of it)\n",
            out->rounds, out->rounds == 1 ? "" : "s", out->batches_run,
            out->batches_run * (size_t)s->jobs, s->unit, valid,
            best->batches, out->exhaustive_batches,
            out->exhaustive_batches ? (double)out->batches_run / (double)out->exhaustive_batches
                                    : NAN);
    fprintf(f, "  ended: %s\n",
            out->separated             ? "the leader is separated from the rest"
            : out->max_batches_reached ? "advise.max_batches reached (not separated)"
            : out->budget_spent        ? "advise.budget spent (not separated)"
                                       : "-");
}

/* ---- the recommended ini ---- */

/* The definition of key for point p (scheme keys by its scheme), or NULL. */
static const struct config_key *key_def(const struct params *p, const char *key)
{
    const struct scheme_ops *ops = scheme_find(params_get(p, "scheme.kind"));
    const struct config_key *k = ops ? config_key_find(ops->keys, key) : NULL;
    for (size_t t = 0; !k && config_tables[t]; t++)
        k = config_key_find(config_tables[t], key);
    for (size_t w = 0; !k && workload_registry[w]; w++)
        k = config_key_find(workload_registry[w]->keys, key);
    return k;
}

/* `full` (a relative path resolved) as best.ini writes it: relative to
 * out_dir (the canonical directory best.ini is written to) when it can be
 * made canonical, else as resolved. Next to the advised config, relative
 * paths keep their text, and with them the point keys of its runs; a
 * moved tree keeps working. Absolute paths are written as they are. */
static const char *best_path_text(const char *full, const char *out_dir, char *buf, size_t len)
{
    char real[PATH_MAX], parent[PATH_MAX];
    const char *slash = strrchr(full, '/');
    /* a weights stem names no file: canonical through its directory */
    if (!realpath(full, real)) {
        if (!slash || slash == full)
            return full;
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - full), full);
        char *dir = realpath(parent, NULL);
        bool ok = dir && snprintf(real, sizeof real, "%s%s", dir, slash) < (int)sizeof real;
        free(dir);
        if (!ok)
            return full;
    }
    return out_dir && params_path_relative(out_dir, real, buf, len) ? buf : full;
}

/* Every key the point reads (defaults included, so the file says all),
 * section by section; relative paths made relative to path's directory. */
static int best_write(const char *path, const char *config_path, const struct params *p,
                      const char *label, struct error *err)
{
    static const char *const sections[] = {"experiment", "cluster", "latency", "workload",
                                           "scheme"};
    struct atomic_file af;
    int status = atomic_file_open(&af, path, err);
    if (status)
        return status;
    fprintf(af.f, "; %s: the configuration stragsim advise recommends for %s: %s\n", path,
            config_path, label);
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    char *out_dir = realpath(slash == path ? "/" : dir, NULL);
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        size_t slen = strlen(sections[s]);
        fprintf(af.f, "\n[%s]\n", sections[s]);
        for (size_t i = 0; i < params_count(p); i++) {
            const char *k = params_key_at(p, i), *v = params_value_at(p, i);
            if (strncmp(k, sections[s], slen) != 0 || k[slen] != '.' ||
                strcmp(k, "experiment.db") == 0)
                continue;
            bool kept = config_key_applies(p, k) || strcmp(k, "experiment.name") == 0 ||
                        strcmp(k, "experiment.repeats") == 0;
            if (!kept)
                continue;
            const struct config_key *def = key_def(p, k);
            char full[PATH_MAX], text[PATH_MAX];
            if (def && def->type == KEY_PATH && v[0] != '/' && params_path(p, k, full, sizeof full))
                v = best_path_text(full, out_dir, text, sizeof text);
            fprintf(af.f, "%s = %s\n", k + slen + 1, v);
        }
    }
    free(out_dir);
    return atomic_file_commit(&af, err);
}

/* The recommended candidate's point with experiment.repeats = its batches. */
static int best_params(const char *config_path, const struct advise_candidate *a,
                       struct params **out, struct error *err)
{
    const char *sets[a->nsets + 1];
    char repeats[48];
    for (size_t i = 0; i < a->nsets; i++)
        sets[i] = a->sets[i];
    snprintf(repeats, sizeof repeats, "experiment.repeats=%zu", a->batches);
    sets[a->nsets] = repeats;
    struct config *c = NULL;
    int repeat;
    char *key = NULL;
    int status = config_load(config_path, sets, a->nsets + 1, &c, err);
    if (!status)
        status = config_point(c, 0, out, &repeat, &key, err);
    free(key);
    config_free(c);
    return status;
}

int cmd_advise(int argc, char **argv)
{
    const char *best_path = NULL, *db_path = NULL, *plot_path = NULL;
    bool explain = false;
    const struct cli_option options[] = {
        {.name = "output", .letter = 'o', .kind = CLI_ONCE, .to = &best_path,
         .label = "-o/--output"},
        {.name = "db", .kind = CLI_ONCE, .to = &db_path},
        {.name = "explain", .kind = CLI_FLAG, .to = &explain},
        {.name = "plot", .kind = CLI_ONCE, .to = &plot_path},
        {0},
    };
    const struct cli_command cmd = {.name = "advise", .options = options, .usage = advise_usage,
                                    .try_help = true};
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0 && first != argc - 1)
        status = first >= argc ? cli_error(&cmd, "%s", "expected a config file")
                               : cli_error(&cmd, "unexpected argument '%s'", argv[first + 1]);
    if (status >= 0)
        return status;
    const char *config_path = argv[first];
    if (plot_path && !plot_output_known(plot_path)) {
        fprintf(stderr, "%s: unknown output extension (expected .png or .svg)\n", plot_path);
        return 2;
    }
    if (plot_path && !plot_text_safe(plot_path)) {
        fprintf(stderr, "%s: --plot: a figure's name may not contain control characters or "
                        "backquotes (its data file's name goes into the gnuplot script)\n",
                plot_path);
        return 2;
    }

    struct error err;
    struct config *c = NULL, *with_scheme = NULL;
    struct advise_spec spec;
    struct advise_candidate *cands = NULL;
    size_t n = 0;
    int rc = config_load(config_path, NULL, 0, &c, &err);
    if (!rc)
        rc = advise_spec_load(c, &spec, &err);
    char first_scheme[96];
    const char *set = first_scheme;
    if (!rc) {
        /* the sweep's points are read with a scheme that runs the workload */
        snprintf(first_scheme, sizeof first_scheme, "scheme.kind=%s", spec.schemes[0]);
        rc = config_load(config_path, &set, 1, &with_scheme, &err);
    }
    if (!rc)
        rc = advise_candidates(with_scheme, &spec, &cands, &n, &err);
    config_free(with_scheme);
    config_free(c);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return rc == STRAG_EINPUT ? 2 : 1;
    }

    run_stop_install();
    struct advise_outcome out;
    struct advise_search_options so = {.config_path = config_path, .db_path = db_path,
                                       .explain = explain ? stdout : NULL,
                                       .stop = run_stop_flag()};
    rc = advise_search(&so, &spec, cands, n, &out, &err);
    run_stop_uninstall();
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        advise_candidates_free(cands, n);
        return rc == STRAG_EINPUT ? 2 : 1;
    }
    if (out.stopped) {
        fprintf(stderr, "stragsim advise: stopped by signal; the finished batches are in %s: "
                        "rerun to go on\n",
                out.db_path[0] ? out.db_path : "the database");
        advise_candidates_free(cands, n);
        return 128 + run_stop_signal();
    }
    if (explain)
        fputc('\n', stdout);
    front_print(&spec, cands, n, &out, stdout);
    if (plot_path && (rc = front_plot(&spec, cands, n, &out, plot_path, &err))) {
        fprintf(stderr, "%s\n", err.msg);
        advise_candidates_free(cands, n);
        return rc == STRAG_EINPUT ? 2 : 1;
    }
    if (out.best < 0) {
        if (out.no_objective)
            fprintf(stderr, "stragsim advise: no candidate has %s in every batch (a target never "
                            "reached?)\n",
                    spec.objective);
        else
            fprintf(stderr, "stragsim advise: no candidate meets the constraints%s\n",
                    spec.nconstraints ? " (the front above shows how near they came)" : "");
        advise_candidates_free(cands, n);
        return 1;
    }
    advice_print(&spec, cands, n, &out, stdout);
    if (best_path) {
        struct params *p = NULL;
        rc = best_params(config_path, &cands[out.best], &p, &err);
        if (!rc)
            rc = best_write(best_path, config_path, p, cands[out.best].label, &err);
        params_free(p);
        if (rc) {
            fprintf(stderr, "%s\n", err.msg);
            advise_candidates_free(cands, n);
            return rc == STRAG_EINPUT ? 2 : 1;
        }
        printf("  written: %s\n", best_path);
    }
    advise_candidates_free(cands, n);
    return 0;
}
