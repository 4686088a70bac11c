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

/* A CSV file line by line, with the rules above for a line (a byte-order
 * mark, CRLF, blank lines, blanks around fields, quotes) and none for rows
 * (header, field counts): for readers with their own, trace_csv_read_file
 * and the replay arrival files (workloads/arrivals.c). */
struct trace_csv_lines {
    char *text;    /* the file's bytes, split in place */
    size_t len, pos;
    int line;      /* 1-based number of the line last returned */
    unsigned flags; /* enum trace_csv_lines_flags */
    char **fields; /* the last line's fields */
    int cap;
};

enum trace_csv_lines_flags {
    TRACE_CSV_COMMENTS = 1,   /* skip lines whose first non-blank is '#' */
    TRACE_CSV_LINE_SPACE = 2, /* trim every isspace() byte at a line's ends, not only blanks */
};

/* Reads all of f into r. 0, -1 (a read error, errno says which) or -2 (out
 * of memory); trace_csv_lines_free() r in every case. */
int trace_csv_lines_read(struct trace_csv_lines *r, FILE *f, unsigned flags);
/* The next line that is neither blank nor a skipped comment, split in place:
 * its n fields in *fields (valid until the next call), its number in
 * r->line. A NUL byte ends the line it is in. 1: a line; 0: the end; -1: a
 * malformed line (*why: an unterminated quote, text after a closing quote);
 * -2: out of memory. */
int trace_csv_lines_next(struct trace_csv_lines *r, char ***fields, int *n, const char **why);
void trace_csv_lines_free(struct trace_csv_lines *r);

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
