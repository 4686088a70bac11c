/* advise_search.c: the successive-halving search of `stragsim advise`.
 *
 * Round r gives every surviving candidate B_r batches (B_0 =
 * advise.batches, then doubling up to advise.max_batches); a batch is one
 * repeat of the candidate's point, run by the sweep run loop (run.h) into
 * the results database with --resume, so a rerun reuses every finished
 * batch. After a round, in this order, a candidate is dropped when
 *   1. a constraint's 95% interval lies wholly on the wrong side of it;
 *   2. the leader meets every constraint surely (by its intervals) and the
 *      candidate's paired difference to the leader (batch b against batch
 *      b: common random numbers) has a 95% interval above 0;
 *   3. more than two are left: it is not in the better half (halving).
 * The leader is the candidate with the lowest objective mean among those
 * whose means meet the constraints (else among all left). The search ends
 * when one candidate is left and its intervals meet the constraints
 * (separated), when the leader reaches advise.max_batches, or when the
 * budget (seconds of computing, checked between rounds) is spent.
 * Printing the front and the advice is cmd_advise.c's. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/aggregate.h"
#include "analysis/results.h"
#include "app/advise.h"
#include "app/config.h"
#include "app/run.h"
#include "base/clock.h"

void advise_metric_ci(const struct advise_candidate *a, size_t m, size_t batches, struct ci *out)
{
    aggregate_ci(a->values[m], batches, out);
}

void advise_diff_ci(const struct advise_candidate *a, const struct advise_candidate *b, size_t m,
                    size_t batches, struct ci *out)
{
    double d[batches ? batches : 1];
    for (size_t i = 0; i < batches; i++)
        d[i] = a->values[m][i] - b->values[m][i];
    aggregate_ci(d, batches, out);
}

/* The index of a constraint's metric among the tracked ones. */
static size_t metric_index(const struct advise_spec *s, const char *name)
{
    for (size_t i = 0; i < s->nmetrics; i++)
        if (strcmp(s->metrics[i], name) == 0)
            return i;
    return 0;
}

void advise_feasibility(const struct advise_spec *s, const struct advise_candidate *a,
                        size_t batches, struct advise_feasibility *f)
{
    f->by_means = f->sure = true;
    f->fails = false;
    f->binding = SIZE_MAX;
    double least = INFINITY;
    for (size_t i = 0; i < s->nconstraints; i++) {
        const struct advise_constraint *c = &s->constraints[i];
        struct ci ci;
        advise_metric_ci(a, metric_index(s, c->metric), batches, &ci);
        double hw = isnan(ci.half_width) ? 0 : ci.half_width;
        double margin = c->at_least ? ci.mean - c->bound : c->bound - ci.mean;
        if (isnan(margin)) { /* the metric is missing: cannot be met */
            f->by_means = f->sure = false;
            f->fails = true;
            continue;
        }
        f->by_means &= margin >= 0;
        f->sure &= margin - hw >= 0;
        f->fails |= margin + hw < 0;
        double scaled = hw > 0 ? margin / hw : margin * 1e12;
        if (scaled < least) {
            least = scaled;
            f->binding = i;
        }
    }
}

/* Runs candidate a's batches [0, batches) (those already in the database
 * are skipped) and reads their metrics. */
static int candidate_run(const struct advise_search_options *o, const struct advise_spec *s,
                         struct advise_candidate *a, size_t batches, char *db_path, size_t dblen,
                         struct error *err)
{
    const char *sets[a->nsets + 1];
    char repeats[48];
    for (size_t i = 0; i < a->nsets; i++)
        sets[i] = a->sets[i];
    snprintf(repeats, sizeof repeats, "experiment.repeats=%zu", batches);
    sets[a->nsets] = repeats;
    struct run_options ro = {.config_path = o->config_path, .db_path = o->db_path, .sets = sets,
                             .nsets = a->nsets + 1, .resume = true, .stop = o->stop};
    struct run_summary sum;
    int status = run_experiment(&ro, &sum, err);
    if (status || sum.stopped)
        return status;
    snprintf(db_path, dblen, "%s", sum.db_path);
    for (size_t m = 0; m < s->nmetrics; m++)
        if (!a->values[m] && !(a->values[m] = calloc((size_t)s->max_batches, sizeof(double))))
            return error_fail(err, "out of memory");
    struct config *c = NULL;
    struct results *db = NULL;
    status = config_load(o->config_path, sets, a->nsets + 1, &c, err);
    if (!status)
        status = results_open(db_path, true, &db, err);
    for (size_t b = a->batches; !status && b < batches; b++) {
        struct params *p;
        int repeat;
        char *key;
        status = config_point(c, b, &p, &repeat, &key, err);
        if (status)
            break;
        for (size_t m = 0; m < s->nmetrics; m++)
            if (!results_run_metric(db, key, s->metrics[m], &a->values[m][b]))
                a->values[m][b] = NAN;
        params_free(p);
        free(key);
    }
    if (!status)
        a->batches = batches;
    results_close(db);
    config_free(c);
    return status;
}

/* Ranking: meets the constraints by its means first, then the lower
 * objective mean (NAN last), then candidate order. */
static const struct advise_spec *rank_spec;
static const struct advise_candidate *rank_cands;
static int rank_cmp(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    const struct advise_candidate *a = &rank_cands[i], *b = &rank_cands[j];
    struct advise_feasibility fa, fb;
    advise_feasibility(rank_spec, a, a->batches, &fa);
    advise_feasibility(rank_spec, b, b->batches, &fb);
    if (fa.by_means != fb.by_means)
        return fa.by_means ? -1 : 1;
    struct ci ca, cb;
    advise_metric_ci(a, 0, a->batches, &ca);
    advise_metric_ci(b, 0, b->batches, &cb);
    if (isnan(ca.mean) != isnan(cb.mean))
        return isnan(ca.mean) ? 1 : -1;
    if (ca.mean != cb.mean && !isnan(ca.mean))
        return ca.mean < cb.mean ? -1 : 1;
    return (i > j) - (i < j);
}

static void rank(const struct advise_spec *s, const struct advise_candidate *cands, size_t *idx,
                 size_t n)
{
    rank_spec = s;
    rank_cands = cands;
    qsort(idx, n, sizeof *idx, rank_cmp);
}

/* "0.3451 ± 0.0021" */
static void ci_text(const struct ci *ci, char *out, size_t len)
{
    if (isnan(ci->half_width))
        snprintf(out, len, "%.4g", ci->mean);
    else
        snprintf(out, len, "%.4g ± %.2g", ci->mean, ci->half_width);
}

static void drop(struct advise_candidate *a, int round, FILE *explain, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void drop(struct advise_candidate *a, int round, FILE *explain, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof a->why, fmt, ap);
    va_end(ap);
    a->dropped_round = round;
    if (explain)
        fprintf(explain, "  dropped %s: %s\n", a->label, a->why);
}

/* The drops of one round (rules 1-3 above) over the survivors idx[0..*n),
 * ranked; *n becomes the number left, idx[0] the leader. */
static void round_drops(const struct advise_spec *s, struct advise_candidate *cands, size_t *idx,
                        size_t *n, int round, FILE *explain)
{
    rank(s, cands, idx, *n);
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) { /* 1: surely violates a constraint */
        struct advise_candidate *a = &cands[idx[i]];
        struct advise_feasibility f;
        advise_feasibility(s, a, a->batches, &f);
        if (!f.fails) {
            idx[kept++] = idx[i];
            continue;
        }
        char why[512] = "", one[128];
        for (size_t c = 0; c < s->nconstraints; c++) {
            struct ci ci;
            advise_metric_ci(a, metric_index(s, s->constraints[c].metric), a->batches, &ci);
            ci_text(&ci, one, sizeof one);
            size_t used = strlen(why);
            snprintf(why + used, sizeof why - used, "%s%s %s %g: %s", used ? "; " : "",
                     s->constraints[c].metric, s->constraints[c].at_least ? ">=" : "<=",
                     s->constraints[c].bound, one);
        }
        drop(a, round, explain, "violates its constraints (95%% intervals): %s", why);
    }
    *n = kept;
    if (!*n)
        return;
    rank(s, cands, idx, *n);
    struct advise_candidate *leader = &cands[idx[0]];
    struct advise_feasibility lf;
    advise_feasibility(s, leader, leader->batches, &lf);
    kept = 1;
    for (size_t i = 1; i < *n; i++) { /* 2: surely worse than a surely feasible leader */
        struct advise_candidate *a = &cands[idx[i]];
        struct ci d;
        size_t b = a->batches < leader->batches ? a->batches : leader->batches;
        advise_diff_ci(a, leader, 0, b, &d);
        if (lf.sure && !isnan(d.half_width) && d.mean - d.half_width > 0) {
            char t[128];
            ci_text(&d, t, sizeof t);
            drop(a, round, explain, "%s worse than %s by %s (paired, %zu batches)", s->objective,
                 leader->label, t, b);
        } else {
            idx[kept++] = idx[i];
        }
    }
    *n = kept;
    size_t half = (*n + 1) / 2 < 2 ? 2 : (*n + 1) / 2; /* 3: halving, down to two */
    for (size_t i = half; i < *n; i++) {
        struct advise_candidate *a = &cands[idx[i]];
        struct ci ci;
        char t[128];
        advise_metric_ci(a, 0, a->batches, &ci);
        ci_text(&ci, t, sizeof t);
        drop(a, round, explain, "not in the better half of round %d (%s %s)", round + 1,
             s->objective, t);
    }
    if (*n > half)
        *n = half;
}

int advise_search(const struct advise_search_options *o, const struct advise_spec *s,
                  struct advise_candidate *cands, size_t n, struct advise_outcome *out,
                  struct error *err)
{
    memset(out, 0, sizeof *out);
    out->best = out->runner_up = -1;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), left = 0;
    if (!idx)
        return error_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        idx[left++] = i;
    double t0 = now_seconds();
    size_t batches = (size_t)s->first_batches, valid = 0;
    int status = 0;
    struct error first_invalid = {0};
    for (int round = 0; !status; round++) {
        out->rounds = round + 1;
        if (o->explain)
            fprintf(o->explain, "round %d: %zu candidates x %zu batches (%ld %s each)\n",
                    round + 1, left, batches, s->jobs, s->unit);
        size_t kept = 0;
        for (size_t i = 0; !status && i < left; i++) {
            struct advise_candidate *a = &cands[idx[i]];
            struct error e;
            int rc = candidate_run(o, s, a, batches, out->db_path, sizeof out->db_path, &e);
            if (o->stop && *o->stop) {
                out->stopped = true;
                break;
            }
            if (rc == STRAG_EINPUT && round == 0) { /* the scheme refuses this point */
                a->invalid = true;
                snprintf(a->why, sizeof a->why, "%.*s", (int)sizeof a->why - 1, e.msg);
                if (!first_invalid.msg[0])
                    first_invalid = e;
                if (o->explain)
                    fprintf(o->explain, "  not valid here: %s: %s\n", a->label, e.msg);
                continue;
            }
            if (rc) {
                *err = e;
                status = rc;
                break;
            }
            idx[kept++] = idx[i];
        }
        if (status || out->stopped)
            break;
        left = kept;
        if (round == 0) {
            valid = left;
            if (!valid) { /* nothing runs: the config itself is at fault */
                *err = first_invalid;
                status = STRAG_EINPUT;
                break;
            }
        }
        if (o->explain)
            for (size_t i = 0; i < left; i++) {
                struct ci ci;
                char t[128];
                advise_metric_ci(&cands[idx[i]], 0, batches, &ci);
                ci_text(&ci, t, sizeof t);
                fprintf(o->explain, "  %-40s %s %s\n", cands[idx[i]].label, s->objective, t);
            }
        round_drops(s, cands, idx, &left, round, o->explain);
        if (!left)
            break;
        struct advise_feasibility f;
        advise_feasibility(s, &cands[idx[0]], batches, &f);
        if (o->explain)
            fprintf(o->explain, "  leader: %s\n", cands[idx[0]].label);
        if (left == 1 && f.sure) {
            out->separated = true;
            break;
        }
        if (batches >= (size_t)s->max_batches) {
            out->max_batches_reached = true;
            break;
        }
        if (now_seconds() - t0 >= s->budget) {
            out->budget_spent = true;
            break;
        }
        batches = 2 * batches < (size_t)s->max_batches ? 2 * batches : (size_t)s->max_batches;
    }
    if (!status && !out->stopped && left) {
        struct advise_feasibility f;
        struct ci obj;
        advise_feasibility(s, &cands[idx[0]], cands[idx[0]].batches, &f);
        advise_metric_ci(&cands[idx[0]], 0, cands[idx[0]].batches, &obj);
        out->no_objective = isnan(obj.mean);
        if (f.by_means && !out->no_objective)
            out->best = (ptrdiff_t)idx[0];
    }
    if (!status && out->best >= 0) {
        /* the runner-up: the candidate that stayed longest, then the lower objective
         * mean, among those that do not surely violate the constraints */
        for (size_t i = 0; i < n; i++) {
            const struct advise_candidate *a = &cands[i];
            struct advise_feasibility f;
            if ((ptrdiff_t)i == out->best || a->invalid || !a->batches)
                continue;
            advise_feasibility(s, a, a->batches, &f);
            if (f.fails)
                continue;
            if (out->runner_up < 0) {
                out->runner_up = (ptrdiff_t)i;
                continue;
            }
            const struct advise_candidate *r = &cands[out->runner_up];
            int ra = a->dropped_round < 0 ? 1 << 30 : a->dropped_round;
            int rr = r->dropped_round < 0 ? 1 << 30 : r->dropped_round;
            struct ci ca, cr;
            advise_metric_ci(a, 0, a->batches, &ca);
            advise_metric_ci(r, 0, r->batches, &cr);
            if (ra > rr || (ra == rr && ca.mean < cr.mean))
                out->runner_up = (ptrdiff_t)i;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!cands[i].invalid)
            out->batches_run += cands[i].batches;
    if (out->best >= 0)
        out->exhaustive_batches = valid * cands[out->best].batches;
    free(idx);
    return status;
}
