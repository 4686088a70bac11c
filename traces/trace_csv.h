/* trace_csv.h: a small reader for the CSV traces stragsim replays and
 * summarises (latency replay, `stragsim trace stats`).
 *
 * Format: a header row, then one row per record; fields separated by
 * commas; a field in double quotes may hold commas and "" for a quote (but
 * not a line break). A UTF-8 byte-order mark, CRLF line ends, blank lines
 * and spaces/tabs around fields are tolerated. Every row must have as many fields as the header.
 * Columns are chosen by header name or by 1-based number (a header name
 * wins when a name is all digits). Cells stay text until a column is asked
 * for as numbers, so text columns a caller does not use never fail.
 * Errors are one line "file:line: ..." naming the row at fault.
 */
#ifndef STRAG_TRACE_CSV_H
#define STRAG_TRACE_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

struct trace_csv {
    char *path;         /* as given, for messages */
    int header_line;    /* 1-based line of the header */
    int ncols;
    char **names;       /* [ncols] header fields, trimmed (may be "") */
    size_t nrows;
    char **cells;       /* [nrows * ncols] row-major, trimmed */
    int *lines;         /* [nrows] 1-based line of each row */
    char *text;         /* the file's bytes, split in place; cells point here */
};

/* Reads `path`. Errors: cannot open, empty file, no data rows, ragged row. */
int trace_csv_read(const char *path, struct trace_csv **out, struct error *err);
/* Same from an open stream (not closed here); `path` names it in messages. */
int trace_csv_read_file(FILE *f, const char *path, struct trace_csv **out, struct error *err);
void trace_csv_free(struct trace_csv *t);

/* Splits one line (without its '\n') in place into its fields, unquoted and
 * trimmed as above, storing the first `max` into fields (NULL: only count).
 * Returns the number of fields, or -1 with *why saying what is wrong (an
 * unterminated quote, text after a closing quote). Also for the replay
 * arrival files (workloads/arrivals.c). */
int trace_csv_split(char *line, char **fields, int max, const char **why);

/* Resolves a column by header name or 1-based number into a 0-based index.
 * `what` says who asked (e.g. "latency.value_column") in the message. */
int trace_csv_column(const struct trace_csv *t, const char *spec, const char *what, int *col,
                     struct error *err);

enum trace_csv_check {
    TRACE_CSV_NONNEG = 1,  /* reject values < 0 */
    TRACE_CSV_INTEGER = 2, /* reject values with a fractional part */
};

/* Parses column `col` of every row into out[nrows]. Rejects text, non-finite
 * values (inf, nan) and whatever `checks` (enum trace_csv_check bits) says. */
int trace_csv_numbers(const struct trace_csv *t, int col, unsigned checks, double *out,
                      struct error *err);

/* Keeps only the rows whose cell in column `col` equals `value` (as text, or
 * as numbers when both parse as numbers: "1" matches "1.0"); returns how
 * many rows are left. Used by `trace stats --where COL=VALUE`. */
size_t trace_csv_keep_rows(struct trace_csv *t, int col, const char *value);

#endif
