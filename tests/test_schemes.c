/* test_schemes.c: unit behaviour of the latency-only schemes (uncoded, kofn,
 * replication, hedged), their placement policies, the registry and their
 * create errors. Each test drives one scheme on a real engine and cluster
 * with durations chosen by the test (no randomness except placement), so
 * the finishing time, the results seen and the worker-seconds are exact.
 * Statistical agreement with closed forms is test_validation.c's job.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "params_lines.h"
#include "scheme_harness.h"
#include "schemes/common/placement.h"
#include "schemes/scheme.h"

/* [scheme]'s params, one a line of test.ini (params_lines.h). */
#define PARAMS(...) PARAMS_IN("scheme", __VA_ARGS__)

/* ---- kofn and uncoded ---- */

static double unit_53423(uint64_t job, int w)
{
    (void)job;
    static const double u[] = {5, 1, 4, 2, 3};
    return u[w];
}

Test(schemes, kofn_done_at_kth_result_and_cancels_the_rest)
{
    struct harness h;
    harness_start(&h, "kofn", PARAMS("scheme.kind=kofn", "scheme.k=3"), 5, true, unit_53423);
    /* cost 1/3: durations 5/3, 1/3, 4/3, 2/3, 1; the third result is worker 4's at 1 */
    expect_latency(&h, 0, 1.0);
    cr_assert_eq(h.results, 3);
    cr_assert_eq(h.last_worker, 4);
    /* workers 0 and 2 preempted at 1: 1 + 1/3 + 1 + 2/3 + 1 */
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 4.0, 1e-12);
    harness_end(&h);
}

Test(schemes, kofn_without_cancel_lets_the_rest_run_but_ignores_them)
{
    struct harness h;
    harness_start(&h, "kofn", PARAMS("scheme.kind=kofn", "scheme.k=3"), 5, false, unit_53423);
    expect_latency(&h, 0, 1.0);
    cr_assert_eq(h.results, 3);
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 5.0, 1e-12);
    harness_end(&h);
}

Test(schemes, kofn_task_cost_overrides_one_over_k)
{
    struct harness h;
    harness_start(&h, "kofn", PARAMS("scheme.kind=kofn", "scheme.k=3", "scheme.task_cost=1"), 5,
                  true, unit_53423);
    expect_latency(&h, 0, 3.0);
    harness_end(&h);
}

Test(schemes, uncoded_waits_for_every_worker)
{
    struct harness h;
    harness_start(&h, "uncoded", PARAMS("scheme.kind=uncoded"), 5, true, unit_53423);
    expect_latency(&h, 0, 1.0); /* 5 * 1/5 */
    cr_assert_eq(h.results, 5, "results %d", h.results);
    cr_assert_eq(h.last_worker, 0);
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 3.0, 1e-12); /* (5+1+4+2+3)/5 */
    harness_end(&h);
}

/* ---- replication ---- */

static double unit_replication(uint64_t job, int w)
{
    (void)job;
    /* parts: {0,1} {2,3} {4,5} */
    static const double u[] = {1, 2, 9, 6, 4, 12};
    return u[w];
}

Test(schemes, replication_done_when_every_part_has_a_result)
{
    struct harness h;
    harness_start(&h, "replication", PARAMS("scheme.kind=replication", "scheme.r=2"), 6, true,
                  unit_replication);
    /* cost 2/6; per part the faster replica: 1/3, 2, 4/3 -> done at 2 (worker 3) */
    expect_latency(&h, 0, 2.0);
    /* results: w0 1/3, w1 2/3 (part 0 again: a duplicate), w4 4/3, w3 2 */
    cr_assert_eq(h.results, 4);
    cr_assert_eq(h.last_worker, 3);
    cr_assert_float_eq(harness_metric(&h, "duplicate_results_per_job"), 1.0, 1e-12);
    /* busy: 1/3 + 2/3 + 2 + 2 + 4/3 + 2 (w2, w5 preempted at 2) */
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 25.0 / 3.0, 1e-12);
    harness_end(&h);
}

static double unit_rising(uint64_t job, int w)
{
    (void)job;
    return w + 1;
}

Test(schemes, replication_bitmask_spans_several_words)
{
    /* r=1: 130 parts in a 3-word mask; the slowest part (worker 129) ends the job */
    struct harness h;
    harness_start(&h, "replication", PARAMS("scheme.kind=replication", "scheme.r=1"), 130, true,
                  unit_rising);
    expect_latency(&h, 0, 1.0);
    cr_assert_eq(h.results, 130);
    cr_assert_eq(h.last_worker, 129);
    cr_assert_float_eq(harness_metric(&h, "duplicate_results_per_job"), 0.0, 1e-12);
    harness_end(&h);
}

Test(schemes, replication_state_is_fresh_for_each_job)
{
    struct harness h;
    harness_start(&h, "replication", PARAMS("scheme.kind=replication", "scheme.r=2"), 6, true,
                  unit_replication);
    for (uint64_t j = 0; j < 3; j++)
        expect_latency(&h, j, 2.0);
    cr_assert_eq(h.results, 12);
    cr_assert_float_eq(harness_metric(&h, "duplicate_results_per_job"), 1.0, 1e-12);
    harness_end(&h);
}

/* ---- hedged ---- */

static double unit_one(uint64_t job, int w)
{
    (void)job;
    (void)w;
    return 1.0;
}

Test(schemes, hedged_no_backup_when_the_first_finishes_before_the_delay)
{
    struct harness h;
    harness_start(&h, "hedged", PARAMS("scheme.kind=hedged", "scheme.delay=2"), 3, true, unit_one);
    for (uint64_t j = 0; j < 4; j++)
        expect_latency(&h, j, 1.0);
    cr_assert_eq(h.results, 4);
    cr_assert_float_eq(harness_metric(&h, "backups_per_job"), 0.0, 1e-12);
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 4.0, 1e-12);
    harness_end(&h);
}

static double unit_slow_worker0(uint64_t job, int w)
{
    (void)job;
    return w == 0 ? 3.0 : 1.0;
}

Test(schemes, hedged_backup_on_another_worker_wins_and_cancels_the_first)
{
    struct harness h;
    harness_start(&h, "hedged",
                  PARAMS("scheme.kind=hedged", "scheme.delay=0.5", "scheme.placement=round_robin"),
                  3, true, unit_slow_worker0);
    /* primary on worker 0 (3), backup at 0.5 on worker 1 (1): done at 1.5 */
    expect_latency(&h, 0, 1.5);
    cr_assert_eq(h.results, 1);
    cr_assert_eq(h.last_worker, 1);
    cr_assert_float_eq(cluster_worker_seconds(h.cl), 2.5, 1e-12);
    /* next job: primary on worker 2 (round robin) returns at 1, its backup
     * (worker 0, sent at 0.5) loses */
    expect_latency(&h, 1, 1.0);
    cr_assert_eq(h.last_worker, 2);
    cr_assert_float_eq(harness_metric(&h, "backups_per_job"), 1.0, 1e-12);
    cr_assert_float_eq(harness_metric(&h, "backup_wins_per_job"), 0.5, 1e-12);
    harness_end(&h);
}

static double unit_percentile(uint64_t job, int w)
{
    /* jobs 0..9 take 1..10 anywhere; job 10 takes 100 on worker 0, 1 on worker 1 */
    if (job < 10)
        return (double)job + 1;
    return w == 0 ? 100.0 : 1.0;
}

Test(schemes, hedged_percentile_waits_for_data_then_uses_the_window)
{
    struct harness h;
    harness_start(&h, "hedged",
                  PARAMS("scheme.kind=hedged", "scheme.percentile=90", "scheme.window=10",
                         "scheme.placement=round_robin"),
                  2, true, unit_percentile);
    /* fewer than ceil(100/(100-90)) = 10 latencies: no backup, even for slow jobs */
    for (uint64_t j = 0; j < 10; j++)
        expect_latency(&h, j, (double)j + 1);
    cr_assert_float_eq(harness_metric(&h, "backups_per_job"), 0.0, 1e-12);
    /* window {1..10}: the 90th percentile (nearest rank) is 9; job 10's
     * primary (worker 0) is slow, the backup at 9 on worker 1 returns at 10 */
    expect_latency(&h, 10, 10.0);
    cr_assert_eq(h.last_worker, 1);
    cr_assert_float_eq(harness_metric(&h, "backups_per_job"), 1.0 / 11, 1e-12);
    cr_assert_float_eq(harness_metric(&h, "hedge_threshold_mean"), 9.0, 1e-12);
    harness_end(&h);
}

Test(schemes, hedged_metrics_skip_warmup_jobs)
{
    struct harness h;
    harness_start(&h, "hedged",
                  PARAMS("scheme.kind=hedged", "scheme.delay=1.5", "scheme.placement=round_robin",
                         "workload.warmup=1"),
                  3, true, unit_slow_worker0);
    expect_latency(&h, 0, 2.5); /* hedged, but a warm-up job */
    expect_latency(&h, 1, 1.0); /* worker 2: no backup */
    cr_assert_float_eq(harness_metric(&h, "backups_per_job"), 0.0, 1e-12);
    harness_end(&h);
}

/* ---- placement ---- */

static struct placement placement_of(const char *policy, int workers, struct params **p)
{
    char kv[64];
    snprintf(kv, sizeof kv, "scheme.placement=%s", policy);
    *p = PARAMS(kv);
    struct scheme_env env = {.params = *p, .workers = workers, .seed = 1, .point_key = 2};
    struct placement pl;
    struct error err = {{0}};
    cr_assert_eq(placement_init(&pl, &env, &err), 0, "%s", err.msg);
    return pl;
}

Test(schemes, placement_round_robin_cycles_and_skips_the_excluded)
{
    struct params *p;
    struct placement pl = placement_of("round_robin", 3, &p);
    int got[6];
    for (int i = 0; i < 4; i++)
        got[i] = placement_pick(&pl, NULL, -1);
    cr_assert(got[0] == 0 && got[1] == 1 && got[2] == 2 && got[3] == 0);
    cr_assert_eq(placement_pick(&pl, NULL, 1), 2); /* next was 1, excluded */
    cr_assert_eq(placement_pick(&pl, NULL, -1), 0);
    params_free(p);
}

Test(schemes, placement_random_is_uniform_and_never_the_excluded)
{
    enum { W = 5, N = 20000 };
    struct params *p;
    struct placement pl = placement_of("random", W, &p);
    int all[W] = {0}, excl[W] = {0};
    for (int i = 0; i < N; i++) {
        all[placement_pick(&pl, NULL, -1)]++;
        excl[placement_pick(&pl, NULL, 3)]++;
    }
    cr_assert_eq(excl[3], 0);
    /* binomial counts: within 4 standard deviations of N/W and N/(W-1) */
    double sd_all = sqrt(N * (1.0 / W) * (1 - 1.0 / W));
    double sd_excl = sqrt(N * (1.0 / (W - 1)) * (1 - 1.0 / (W - 1)));
    for (int w = 0; w < W; w++) {
        cr_assert_lt(fabs(all[w] - (double)N / W), 4 * sd_all, "worker %d: %d", w, all[w]);
        if (w != 3)
            cr_assert_lt(fabs(excl[w] - (double)N / (W - 1)), 4 * sd_excl, "worker %d", w);
    }
    params_free(p);
}

static double unit_long(uint64_t job, int w)
{
    (void)job;
    (void)w;
    return 100.0;
}

Test(schemes, placement_shortest_queue_prefers_the_least_loaded)
{
    enum { N = 4000 };
    struct params *p;
    struct placement pl = placement_of("shortest_queue", 4, &p);
    struct harness h;
    harness_start(&h, "uncoded", PARAMS("scheme.kind=uncoded"), 4, true, unit_long);
    /* loads 2, 1, 0, 0 (nothing runs: the engine is not stepped) */
    uint32_t job = cluster_job_open(h.cl, 0);
    cluster_submit(h.cl, job, 0, 1.0, 0);
    cluster_submit(h.cl, job, 0, 1.0, 0);
    cluster_submit(h.cl, job, 1, 1.0, 0);
    int count[4] = {0};
    for (int i = 0; i < N; i++)
        count[placement_pick(&pl, h.cl, -1)]++;
    cr_assert(count[0] == 0 && count[1] == 0);
    double sd = sqrt(N * 0.25);
    cr_assert_lt(fabs(count[2] - N / 2.0), 4 * sd, "ties split %d/%d", count[2], count[3]);
    cr_assert_eq(placement_pick(&pl, h.cl, 2), 3);
    cluster_submit(h.cl, job, 3, 1.0, 0);
    cluster_submit(h.cl, job, 3, 1.0, 0);
    cr_assert_eq(placement_pick(&pl, h.cl, 2), 1); /* loads 2, 1, -, 2 */
    cluster_job_finish(h.cl, job);
    harness_end(&h);
    params_free(p);
}

Test(schemes, hedged_random_placement_spreads_primaries)
{
    enum { W = 4, N = 4000 };
    struct harness h;
    harness_start(&h, "hedged", PARAMS("scheme.kind=hedged", "scheme.delay=5"), W, true, unit_one);
    int count[W] = {0};
    for (int i = 0; i < N; i++) {
        harness_job(&h, (uint64_t)i);
        count[h.last_worker]++;
    }
    double sd = sqrt(N * 0.25 * 0.75);
    for (int w = 0; w < W; w++)
        cr_assert_lt(fabs(count[w] - N / 4.0), 4 * sd, "worker %d: %d", w, count[w]);
    harness_end(&h);
}

/* ---- create errors (exact messages) ---- */

static void expect_create_error(const char *kind, struct params *p, int workers, const char *msg)
{
    const struct scheme_ops *ops = scheme_find(kind);
    cr_assert_not_null(ops);
    struct scheme_env env = {.params = p, .workers = workers, .seed = 1, .point_key = 1};
    struct error err = {{0}};
    void *self = NULL;
    cr_assert_eq(ops->create(&env, &self, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, msg);
    params_free(p);
}

Test(schemes, replication_r_must_divide_workers)
{
    expect_create_error("replication", PARAMS("scheme.kind=replication", "scheme.r=4"), 6,
                        "test.ini:3: scheme.r: 4 does not divide cluster.workers (6)");
    expect_create_error("replication", PARAMS("scheme.kind=replication", "scheme.r=12"), 6,
                        "test.ini:3: scheme.r: 12 does not divide cluster.workers (6)");
    expect_create_error("replication", PARAMS("scheme.kind=replication"), 6,
                        "test.ini:1: scheme.r: required by replication");
}

Test(schemes, kofn_k_at_most_workers)
{
    expect_create_error("kofn", PARAMS("scheme.kind=kofn", "scheme.k=11"), 10,
                        "test.ini:3: scheme.k: 11 is more than cluster.workers (10)");
    expect_create_error("kofn", PARAMS("scheme.kind=kofn"), 10,
                        "test.ini:1: scheme.k: required by kofn");
}

Test(schemes, hedged_needs_one_delay_rule_and_two_workers)
{
    expect_create_error(
        "hedged", PARAMS("scheme.kind=hedged"), 4,
        "test.ini:2: scheme.kind: hedged needs exactly one of scheme.delay and scheme.percentile");
    expect_create_error(
        "hedged", PARAMS("scheme.kind=hedged", "scheme.delay=1", "scheme.percentile=95"), 4,
        "test.ini:4: scheme.percentile: hedged needs exactly one of scheme.delay and "
        "scheme.percentile");
    expect_create_error("hedged", PARAMS("scheme.kind=hedged", "scheme.delay=1"), 1,
                        "test.ini:2: scheme.kind: hedged needs cluster.workers >= 2 (the backup "
                        "goes to another worker)");
}

/* ---- registry ---- */

Test(schemes, registry_names_match_the_kind_choices)
{
    const struct config_key *kind = config_key_find(scheme_common_keys, "scheme.kind");
    cr_assert_not_null(kind);
    char why[128];
    size_t n = 0;
    for (const struct scheme_ops *const *s = scheme_registry; *s; s++, n++) {
        cr_assert_eq(scheme_find((*s)->name), *s);
        cr_assert(config_key_check(kind, (*s)->name, why, sizeof why), "%s: %s", (*s)->name, why);
        if ((*s)->workloads & SCHEME_LATENCY)
            cr_assert((*s)->job_start && (*s)->on_result, "%s", (*s)->name);
        else /* ssp; the pipeline's schemes */
            cr_assert((*s)->workloads & SCHEME_PIPELINE ? (*s)->pipeline_prepare != NULL
                                                        : (*s)->train_prepare != NULL,
                      "%s", (*s)->name);
        for (const struct config_key *k = (*s)->keys; k->name; k++)
            cr_assert(strncmp(k->name, "scheme.", 7) == 0, "%s", k->name);
    }
    /* every choice is registered: count the choices */
    size_t choices = 1;
    for (const char *c = kind->choices; *c; c++)
        choices += *c == '|';
    cr_assert_eq(choices, n);
    cr_assert_null(scheme_find("nope"));
    cr_assert_null(scheme_find(NULL));
}

Test(schemes, task_cost_override)
{
    struct params *p = PARAMS("scheme.kind=kofn");
    cr_assert_float_eq(scheme_task_cost(p, 0.25), 0.25, 0);
    params_set(p, "scheme.task_cost", "2.5", "test.ini", 9);
    cr_assert_float_eq(scheme_task_cost(p, 0.25), 2.5, 0);
    params_free(p);
}

/* ---- barycentric: when the master decodes (scheme.decode_when) ---- */

/* Runs one barycentric job on 5 workers with unit_53423 (S = 1: K = 4,
 * cost 1/4, results at 0.25 (w1), 0.5 (w3), 0.75 (w4), 1 (w2), 1.25 (w0))
 * under `when` and `deadline` ("" for none); checks its latency, the results
 * it was decoded from and whether the deadline decided. */
static void expect_barycentric_decode(const char *when, const char *deadline, double latency,
                                      int results, bool by_deadline)
{
    char w[64], dl[64];
    snprintf(w, sizeof w, "scheme.decode_when=%s", when);
    snprintf(dl, sizeof dl, "scheme.deadline=%s", *deadline ? deadline : "1");
    struct params *p = PARAMS("scheme.kind=barycentric", "scheme.d=1", "scheme.stragglers=1",
                              "scheme.nodes=n", "scheme.coded_workers=cluster", w, dl);
    if (!*deadline)
        params_unset(p, "scheme.deadline");
    struct harness h;
    harness_start(&h, "barycentric", p, 5, true, unit_53423);
    expect_latency(&h, 0, latency);
    cr_assert_eq(h.results, results, "%s %s: %d results", when, deadline, h.results);
    cr_assert_eq(harness_metric(&h, "decode_results_mean"), results);
    cr_assert_eq(harness_metric(&h, "deadline_decodes"), by_deadline ? 1.0 : 0.0);
    harness_end(&h);
}

Test(schemes, barycentric_decodes_at_n_minus_s_results)
{
    expect_barycentric_decode("results", "", 1.0, 4, false);
}

Test(schemes, barycentric_decodes_at_the_deadline_from_what_is_in)
{
    expect_barycentric_decode("deadline", "0.6", 0.6, 2, true);
    /* nothing in by the deadline: the first result decodes */
    expect_barycentric_decode("deadline", "0.1", 0.25, 1, true);
    /* every result in before the deadline: nothing more to wait for */
    expect_barycentric_decode("deadline", "5", 1.25, 5, false);
}

Test(schemes, barycentric_decodes_at_whichever_comes_first)
{
    expect_barycentric_decode("first", "0.6", 0.6, 2, true);
    expect_barycentric_decode("first", "2", 1.0, 4, false);
    expect_barycentric_decode("first", "0.1", 0.25, 1, true);
}

Test(schemes, barycentric_bad_parameters)
{
    expect_create_error("barycentric",
                        PARAMS("scheme.kind=barycentric", "scheme.d=4", "scheme.stragglers=1",
                               "scheme.nodes=n", "scheme.coded_workers=cluster",
                               "scheme.decode_when=results"),
                        5, "test.ini:3: scheme.d: blending degree d = 4 needs K >= d + 1 queries "
                           "per job (K = 4)");
    expect_create_error("barycentric",
                        PARAMS("scheme.kind=barycentric", "scheme.d=1", "scheme.stragglers=1",
                               "scheme.nodes=n", "scheme.coded_workers=cluster",
                               "scheme.decode_when=first"),
                        5, "test.ini:7: scheme.decode_when: decode_when = first needs scheme.deadline");
    expect_create_error("barycentric",
                        PARAMS("scheme.kind=barycentric", "scheme.d=1", "scheme.stragglers=1",
                               "scheme.nodes=n", "scheme.coded_workers=cluster",
                               "scheme.decode_when=results", "workload.queries=6"),
                        5, "test.ini:8: workload.queries: K = 6 queries need 7 workers, "
                           "cluster.workers is 5");
}
