/* test_replay.c: the replay latency source and its CSV reader. Exact
 * durations from a small trace written to a temp file (worker identity,
 * cost and scale, wrap-around), the worker mapping for N > W and N < W, the
 * missing-cell rule, relative paths, column choice by number, the shipped
 * Alibaba trace, and every malformed-input error with its exact message.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params_lines.h"
#include "traces/latency.h"
#include "traces/trace_csv.h"

/* ---- fixture: a temp dir per test, removed afterwards ---- */

static char dir[64];
static char files[8][256];
static int nfiles;

static void dir_make(void)
{
    strcpy(dir, "/tmp/stragsim-replay-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    nfiles = 0;
}

static void dir_remove(void)
{
    for (int i = 0; i < nfiles; i++)
        unlink(files[i]);
    rmdir(dir);
}

TestSuite(replay, .init = dir_make, .fini = dir_remove);

/* Writes text to dir/name; returns the path (valid until the test ends). */
static const char *write_file(const char *name, const char *text)
{
    cr_assert_lt(nfiles, 8);
    char *path = files[nfiles++];
    snprintf(path, sizeof files[0], "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Replay params: [latency] at test.ini:1, latency.file at line 2, then the
 * columns (lines 3-5) and scale (line 6), overridable by `extra`
 * ("key=value", at line 7 on). */
static struct params *replay_params(const char *file, const char *const *extra, size_t n)
{
    struct params *p = params_new();
    params_set_section_line(p, "latency", "test.ini", 1);
    params_set(p, "latency.kind", "replay", "test.ini", 1);
    params_set(p, "latency.file", file, "test.ini", 2);
    params_set(p, "latency.worker_column", "worker", "test.ini", 3);
    params_set(p, "latency.iteration_column", "time", "test.ini", 4);
    params_set(p, "latency.value_column", "batch_time_norm", "test.ini", 5);
    params_set(p, "latency.scale", "1", "test.ini", 6);
    for (size_t i = 0; i < n; i++)
        params_set_kv(p, extra[i], "test.ini", (int)i + 7);
    return p;
}
#define REPLAY(file, ...)                                                                  \
    replay_params(file, (const char *const[]){NULL, __VA_ARGS__} + 1,                     \
                  sizeof((const char *const[]){NULL, __VA_ARGS__}) / sizeof(char *) - 1)
#define REPLAY_PLAIN(file) replay_params(file, NULL, 0)

/* latency.file as the config loader records it: relative to `dir` (the
 * config file's directory; NULL: the working directory). */
static void file_in_dir(struct params *p, const char *dir)
{
    const char *file;
    int line;
    params_where(p, "latency.file", &file, &line);
    cr_assert_eq(params_set_dir(p, "latency.file", params_get(p, "latency.file"), file, line, dir),
                 0);
}

static struct latency_source *open_replay(struct params *p, const char *dir, int workers)
{
    struct latency_source *s = NULL;
    struct error err = {{0}};
    file_in_dir(p, dir);
    int rc = latency_new(p, workers, 1, 2, &s, &err);
    params_free(p);
    cr_assert_eq(rc, 0, "replay failed: %s", err.msg);
    return s;
}

static void expect_error(struct params *p, const char *msg)
{
    struct latency_source *s = NULL;
    struct error err = {{0}};
    int rc = latency_new(p, 4, 1, 2, &s, &err);
    params_free(p);
    cr_expect_eq(rc, STRAG_EINPUT);
    cr_expect_null(s);
    cr_expect_str_eq(err.msg, msg);
    latency_free(s);
}

/* Two workers, three iterations (time 1, 11, 21), in the Alibaba layout. */
static const char small_csv[] = ",worker,gpu,time,batch_time_norm\n"
                                "0,0,25,1,10\n"
                                "1,1,25,1,20\n"
                                "2,0,25,11,30\n"
                                "3,1,25,11,40\n"
                                "4,0,25,21,50\n"
                                "5,1,25,21,60\n";
static const double small[2][3] = {{10, 30, 50}, {20, 40, 60}};

Test(replay, exact_values_cost_scale_and_wrap)
{
    struct latency_source *s = open_replay(REPLAY(write_file("t.csv", small_csv),
                                                  "latency.scale=0.5"),
                                           NULL, 2);
    for (int w = 0; w < 2; w++)
        for (uint64_t t = 0; t < 7; t++) /* t >= 3 wraps around */
            cr_expect_eq(latency_draw(s, w, t, 4.0), 4.0 * 0.5 * small[w][t % 3],
                         "worker %d iteration %lu", w, (unsigned long)t);
    /* several tasks of one iteration see the same cell */
    cr_expect_eq(latency_draw(s, 1, 2, 1.0), latency_draw(s, 1, 2, 1.0));
    cr_expect_float_eq(s->ops->mean(s), 0.5 * 210.0 / 6, 1e-12);
    latency_free(s);
}

Test(replay, row_order_and_worker_ids_do_not_matter)
{
    /* rows shuffled, worker ids 3 and 7, iterations given out of order, one
     * row repeated identically (as in job_2) */
    const char *path = write_file("t.csv", "worker,time,batch_time_norm\n"
                                           "7,21,60\n"
                                           "3,11,30\n"
                                           "3,11,30\n"
                                           "7,1,20\n"
                                           "3,21,50\n"
                                           "3,1,10\n"
                                           "7,11,40\n");
    struct latency_source *s = open_replay(REPLAY_PLAIN(path), NULL, 2);
    for (int w = 0; w < 2; w++)
        for (uint64_t t = 0; t < 3; t++)
            cr_expect_eq(latency_draw(s, w, t, 1.0), small[w][t]);
    latency_free(s);
}

Test(replay, more_workers_than_trace_offsets_copies)
{
    /* N = 5, W = 2, I = 3: ceil(N/W) = 3 copies; copy c = w / 2 starts
     * c * 3 / 3 = c iterations later. */
    struct latency_source *s = open_replay(REPLAY_PLAIN(write_file("t.csv", small_csv)), NULL, 5);
    for (int w = 0; w < 5; w++)
        for (uint64_t t = 0; t < 6; t++)
            cr_expect_eq(latency_draw(s, w, t, 1.0), small[w % 2][(t + (uint64_t)(w / 2)) % 3],
                         "worker %d iteration %lu", w, (unsigned long)t);
    latency_free(s);
}

Test(replay, fewer_workers_than_trace_uses_first_ones)
{
    struct latency_source *s = open_replay(REPLAY_PLAIN(write_file("t.csv", small_csv)), NULL, 1);
    for (uint64_t t = 0; t < 3; t++)
        cr_expect_eq(latency_draw(s, 0, t, 1.0), small[0][t]);
    cr_expect_float_eq(s->ops->mean(s), 30.0, 1e-12);
    latency_free(s);
}

Test(replay, missing_cell_repeats_previous_value)
{
    /* worker 1 misses time 11 (repeats 20); worker 0 misses time 1, before
     * its first row (takes its first value, 30) */
    const char *path = write_file("t.csv", "worker,time,batch_time_norm\n"
                                           "1,1,20\n"
                                           "0,11,30\n"
                                           "0,21,50\n"
                                           "1,21,60\n");
    static const double want[2][3] = {{30, 30, 50}, {20, 20, 60}};
    struct latency_source *s = open_replay(REPLAY_PLAIN(path), NULL, 2);
    for (int w = 0; w < 2; w++)
        for (uint64_t t = 0; t < 3; t++)
            cr_expect_eq(latency_draw(s, w, t, 1.0), want[w][t], "worker %d iteration %lu", w,
                         (unsigned long)t);
    latency_free(s);
}

Test(replay, relative_path_columns_by_number_crlf_blank_lines)
{
    write_file("t.csv", "\r\n , worker , gpu , time , batch_time_norm\r\n"
                        "0,0,25,1,10\r\n\r\n"
                        "1,1,25,1,20\r\n"
                        "2,0,25,11,30\r\n"
                        "   \r\n"
                        "3,1,25,11,40\r\n"
                        "4,0,25,21,50\r\n"
                        "5,1,25,21,60");
    struct latency_source *s = open_replay(
        REPLAY("t.csv", "latency.worker_column=2", "latency.iteration_column=4",
               "latency.value_column=5"),
        dir, 2);
    for (int w = 0; w < 2; w++)
        for (uint64_t t = 0; t < 3; t++)
            cr_expect_eq(latency_draw(s, w, t, 1.0), small[w][t]);
    latency_free(s);
}

/* Spreadsheet and pandas exports: a UTF-8 byte-order mark before the
 * header, every field quoted, a quoted comma and a doubled quote. */
Test(replay, bom_and_quoted_fields)
{
    write_file("t.csv", "\xEF\xBB\xBF\"\",\"worker\", \"gpu\" ,\"time\",\"batch_time_norm\"\n"
                        "0,\"0\",\"25, \"\"x\"\"\",1,10\n"
                        "1,1,25,1,\"20\"\n"
                        "\"2\",0,25,11,30\n"
                        "3,1,\"\",11,40\r\n"
                        "4,0,25,21,50\n"
                        "5,1,25,21, \"60\" \n");
    struct latency_source *s = open_replay(REPLAY("t.csv", "latency.worker_column=worker"), dir, 2);
    for (int w = 0; w < 2; w++)
        for (uint64_t t = 0; t < 3; t++)
            cr_expect_eq(latency_draw(s, w, t, 1.0), small[w][t]);
    latency_free(s);

    struct trace_csv *t;
    struct error err;
    char path[128];
    snprintf(path, sizeof path, "%s/t.csv", dir);
    cr_assert_eq(trace_csv_read(path, &t, &err), 0, "%s", err.msg);
    cr_expect_str_eq(t->names[0], "");
    cr_expect_str_eq(t->names[1], "worker", "the byte-order mark is not part of a name");
    cr_expect_str_eq(t->names[2], "gpu");
    cr_expect_str_eq(t->cells[2], "25, \"x\"");
    cr_expect_str_eq(t->cells[5 * 3 + 2], "");
    trace_csv_free(t);
}

Test(replay, seed_does_not_matter)
{
    const char *path = write_file("t.csv", small_csv);
    struct latency_source *a = NULL, *b = NULL;
    struct error err;
    struct params *p = REPLAY_PLAIN(path);
    cr_assert_eq(latency_new(p, 2, 1, 2, &a, &err), 0);
    cr_assert_eq(latency_new(p, 2, 99, 7, &b, &err), 0);
    params_free(p);
    for (uint64_t t = 0; t < 3; t++)
        cr_expect_eq(latency_draw(a, 1, t, 1.0), latency_draw(b, 1, t, 1.0));
    latency_free(a);
    latency_free(b);
}

Test(replay, shipped_alibaba_trace)
{
    /* job_4: 10 workers, 2183 iterations; worker 9 misses one iteration. */
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    char tdir[512];
    snprintf(tdir, sizeof tdir, "%s/traces/data/alibaba-pai", root ? root : ".");
    struct latency_source *s = open_replay(REPLAY_PLAIN("job_4_norm.csv"), tdir, 10);
    cr_expect_eq(latency_draw(s, 0, 0, 1.0), 309.0);
    cr_expect_eq(latency_draw(s, 1, 0, 1.0), 59.0);
    cr_expect_eq(latency_draw(s, 3, 0, 1.0), 57.0);
    cr_expect_eq(latency_draw(s, 0, 2183, 1.0), 309.0, "wraps after 2183 iterations");
    double mean = s->ops->mean(s);
    cr_expect(mean > 0 && mean <= 1000, "mean %g", mean);
    latency_free(s);
    for (int job = 1; job <= 3; job++) { /* the other shipped files load too */
        char name[32];
        snprintf(name, sizeof name, "job_%d_norm.csv", job);
        latency_free(open_replay(REPLAY_PLAIN(name), tdir, 16));
    }
}

/* ---- errors ---- */

static char msg[1024];

/* The expected message "<dir>/t.csv<rest>". */
static const char *at(const char *path, const char *rest)
{
    snprintf(msg, sizeof msg, "%s%s", path, rest);
    return msg;
}

static void expect_csv_error(const char *text, const char *rest)
{
    const char *path = write_file("bad.csv", text);
    expect_error(REPLAY_PLAIN(path), at(path, rest));
    nfiles--; /* next call rewrites the same file */
    unlink(path);
}

Test(replay, error_missing_file_and_key)
{
    snprintf(msg, sizeof msg, "test.ini:2: latency.file: cannot open '%s/nope.csv': No such "
                              "file or directory", dir);
    struct latency_source *s = NULL;
    struct error err = {{0}};
    struct params *p = REPLAY_PLAIN("nope.csv");
    file_in_dir(p, dir);
    cr_expect_eq(latency_new(p, 4, 1, 2, &s, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, msg);
    params_unset(p, "latency.file");
    cr_expect_eq(latency_new(p, 4, 1, 2, &s, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg,
                     "test.ini:1: latency.file: missing (required when latency.kind = replay)");
    params_free(p);

    struct trace_csv *t;
    char path[128];
    snprintf(path, sizeof path, "%s/nope.csv", dir);
    cr_expect_eq(trace_csv_read(path, &t, &err), STRAG_EINPUT);
    cr_expect_null(t);
    cr_expect_str_eq(err.msg, at(path, ": cannot open: No such file or directory"));
}

Test(replay, error_empty_and_header_only)
{
    expect_csv_error("", ":1: empty file, expected a header row");
    expect_csv_error("\n\r\n  \n", ":1: empty file, expected a header row");
    expect_csv_error("\nworker,time,batch_time_norm\n\n", ":2: header but no data rows");
}

Test(replay, error_columns)
{
    const char *path = write_file("t.csv", small_csv);
    expect_error(REPLAY(path, "latency.value_column=value"),
                 at(path, ":1: latency.value_column: no column named 'value' in the header"));
    expect_error(REPLAY(path, "latency.worker_column=9"),
                 at(path, ":1: latency.worker_column: column 9 out of range (the header has 5 "
                          "columns)"));
    expect_error(REPLAY(path, "latency.worker_column=0"),
                 at(path, ":1: latency.worker_column: column 0 out of range (the header has 5 "
                          "columns)"));
    expect_error(REPLAY(path, "latency.iteration_column=2"),
                 "test.ini:7: latency.iteration_column: same column (2) as "
                 "latency.worker_column");
    expect_error(REPLAY(path, "latency.scale=0"), "test.ini:7: latency.scale: must be > 0");
}

Test(replay, error_bad_values)
{
    static const char head[] = "worker,time,batch_time_norm\n0,1,5\n";
    static const struct {
        const char *row, *rest;
    } cases[] = {
        {"1,1,fast\n", ":3: column 'batch_time_norm': expected a number, got 'fast'"},
        {"1,1,\n", ":3: column 'batch_time_norm': expected a number, got ''"},
        {"1,1,12abc\n", ":3: column 'batch_time_norm': expected a number, got '12abc'"},
        {"1,1,-4\n", ":3: column 'batch_time_norm': negative value '-4'"},
        {"1,1,inf\n", ":3: column 'batch_time_norm': 'inf' is not a finite number"},
        {"1,1,nan\n", ":3: column 'batch_time_norm': 'nan' is not a finite number"},
        {"1,1,1e999\n", ":3: column 'batch_time_norm': '1e999' is out of range"},
        {"1e10,1,5\n", ":3: column 'worker': '1e10' is out of range (at most 2147483647)"},
        {"1,\"1,5\n", ":3: unterminated quoted field"},
        {"1,\"1\"x,5\n", ":3: text after the closing quote of a field"},
        {"1.5,1,5\n", ":3: column 'worker': expected an integer, got '1.5'"},
        {"-1,1,5\n", ":3: column 'worker': negative value '-1'"},
        {"w1,1,5\n", ":3: column 'worker': expected a number, got 'w1'"},
        {"1,one,5\n", ":3: column 'time': expected a number, got 'one'"},
        {"1,1\n", ":3: expected 3 fields as in the header, got 2"},
        {"1,1,5,6\n", ":3: expected 3 fields as in the header, got 4"},
        {"\r\n\r\n1,1,5,\r\n", ":5: expected 3 fields as in the header, got 4"},
        {"1,1,5\n0,1,7\n",
         ":4: worker 0 at iteration 1 has a second, different value 7 (first 5 at line 2)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%s%s", head, cases[i].row);
        expect_csv_error(text, cases[i].rest);
    }
}

Test(replay, error_unnamed_column_by_number)
{
    /* The Alibaba index column has no name: messages use its number. */
    const char *path = write_file("t.csv", ",worker,time,batch_time_norm\nx,0,1,5\n");
    expect_error(REPLAY(path, "latency.value_column=1"),
                 at(path, ":2: column 1: expected a number, got 'x'"));
}

Test(replay, error_too_sparse)
{
    /* every row its own worker and iteration: 8193 x 8193 cells > 2^26 */
    enum { N = 8193 };
    static char text[N * 24 + 64];
    size_t len = (size_t)sprintf(text, "worker,time,batch_time_norm\n");
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(text + len, "%d,%d,1\n", i, i);
    const char *path = write_file("t.csv", text);
    expect_error(REPLAY_PLAIN(path),
                 at(path, ": 8193 workers x 8193 distinct iterations is too sparse a trace "
                          "(more than 67108864 cells); workers should share iteration values"));
}

Test(replay, csv_keep_rows_by_text_or_number)
{
    struct trace_csv *t;
    struct error err;
    cr_assert_eq(trace_csv_read(write_file("t.csv", "job,worker,time,v\n"
                                                    "a,0,1,5\nb,0,1,6\na,1,1.0,7\n"),
                                &t, &err),
                 0, "%s", err.msg);
    cr_expect_eq(trace_csv_keep_rows(t, 0, "a"), 2);
    cr_expect_eq(t->lines[1], 4);
    cr_expect_eq(trace_csv_keep_rows(t, 2, "1"), 2, "'1.0' matches 1 as a number");
    cr_expect_eq(trace_csv_keep_rows(t, 1, "0"), 1);
    cr_expect_str_eq(t->cells[3], "5");
    trace_csv_free(t);
}

/* Regression: a NUL byte used to end the line early and silently hide the
 * rest of the file (or report a binary file as "empty"). */
Test(replay, error_nul_byte)
{
    static const char text[] = "worker,time,v\n0,0,1\n1,0\0,2\n2,0,3\n";
    char path[128];
    snprintf(path, sizeof path, "%s/nul.csv", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(text, 1, sizeof text - 1, f);
    fclose(f);
    struct trace_csv *t = NULL;
    struct error err = {{0}};
    cr_expect_eq(trace_csv_read(path, &t, &err), STRAG_EINPUT);
    cr_expect_null(t);
    char want[256];
    snprintf(want, sizeof want, "%s:3: not a text file (contains a NUL byte)", path);
    cr_expect_str_eq(err.msg, want);
    unlink(path);
}
