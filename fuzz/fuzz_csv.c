/* fuzz_csv.c: libFuzzer harness for the trace CSV reader: the input is a
 * trace file; every column is then asked for as numbers (with and without
 * the integer and non-negative checks) and filtered, as replay and `trace
 * stats` do. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_file.h"
#include "traces/trace_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write("fuzz.csv", data, size);
    struct trace_csv *t = NULL;
    struct error err;
    if (trace_csv_read(path, &t, &err))
        return 0;
    double *values = malloc((t->nrows ? t->nrows : 1) * sizeof *values);
    static const char *const specs[] = {"1", "2", "3", "worker", "time", "0", "99", ""};
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        int col;
        if (trace_csv_column(t, specs[s], "fuzz", &col, &err))
            continue;
        trace_csv_numbers(t, col, 0, values, &err);
        trace_csv_numbers(t, col, TRACE_CSV_NONNEG | TRACE_CSV_INTEGER, values, &err);
    }
    if (t->ncols > 0 && t->nrows > 0)
        trace_csv_keep_rows(t, 0, t->cells[0]);
    free(values);
    trace_csv_free(t);
    return 0;
}
