/* trace_csv.c: reading a header + rows CSV trace into text cells, and
 * turning columns into validated numbers (see trace_csv.h). Knows nothing
 * about workers or iterations: replay.c gives the columns their meaning.
 */
#include "traces/trace_csv.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

/* Splits one line (without its '\n') in place into its fields, unquoted and
 * trimmed, storing the first `max` into fields (NULL: only count). Returns
 * the number of fields, or -1 with *why saying what is wrong (an
 * unterminated quote, text after a closing quote). */
static int split(char *line, char **fields, int max, const char **why)
{
    int n = 0;
    for (char *r = line;; r++) {
        while (*r == ' ' || *r == '\t')
            r++;
        bool store = fields && n < max; /* writes stay inside this field's bytes */
        char *start = r, *end;
        if (*r == '"') {
            char *w = r++;
            for (;; r++) {
                if (!*r) {
                    *why = "unterminated quoted field";
                    return -1;
                }
                if (*r == '"' && *++r != '"')
                    break; /* the closing quote; "" is one quote */
                if (store)
                    *w = *r;
                w++;
            }
            while (*r == ' ' || *r == '\t' || *r == '\r')
                r++;
            if (*r && *r != ',') {
                *why = "text after the closing quote of a field";
                return -1;
            }
            end = w;
        } else {
            r += strcspn(r, ",");
            end = r;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        }
        char sep = *r;
        if (store) {
            *end = 0;
            fields[n] = start;
        }
        n++;
        if (!sep)
            return n;
    }
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb)
            free(buf);
        buf = nb;
    }
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* trim() for TRACE_CSV_LINE_SPACE: every isspace() character. */
static char *trim_space(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

int trace_csv_lines_read(struct trace_csv_lines *r, FILE *f, unsigned flags)
{
    *r = (struct trace_csv_lines){.flags = flags};
    if (!(r->text = read_all(f, &r->len)))
        return -2;
    if (ferror(f))
        return -1;
    if (strncmp(r->text, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3; /* a UTF-8 byte-order mark (spreadsheet exports) */
    return 0;
}

int trace_csv_lines_next(struct trace_csv_lines *r, char ***fields, int *n, const char **why)
{
    while (r->pos < r->len) {
        r->line++;
        char *line = r->text + r->pos, *nl = memchr(line, '\n', r->len - r->pos);
        r->pos = nl ? (size_t)(nl - r->text) + 1 : r->len;
        if (nl)
            *nl = 0;
        /* as a C string: a NUL ends the line */
        char *body = r->flags & TRACE_CSV_LINE_SPACE ? trim_space(line) : trim(line);
        if (!*body || ((r->flags & TRACE_CSV_COMMENTS) && *body == '#'))
            continue; /* blank line, comment */
        int count = split(body, NULL, 0, why);
        if (count < 0)
            return -1;
        if (count > r->cap) {
            char **nf = realloc(r->fields, (size_t)count * sizeof *nf);
            if (!nf)
                return -2;
            r->fields = nf;
            r->cap = count;
        }
        split(body, r->fields, count, why);
        *fields = r->fields;
        *n = count;
        return 1;
    }
    return 0;
}

void trace_csv_lines_free(struct trace_csv_lines *r)
{
    free(r->text);
    free(r->fields);
    *r = (struct trace_csv_lines){0};
}

void trace_csv_free(struct trace_csv *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->names);
    free(t->cells);
    free(t->lines);
    free(t->text);
    free(t);
}

int trace_csv_read(const char *path, struct trace_csv **out, struct error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return error_at(err, path, 0, "cannot open: %s", strerror(errno));
    int rc = trace_csv_read_file(f, path, out, err);
    fclose(f);
    return rc;
}

int trace_csv_read_file(FILE *f, const char *path, struct trace_csv **out, struct error *err)
{
    *out = NULL;
    struct trace_csv *t = calloc(1, sizeof *t);
    struct trace_csv_lines r;
    int got = trace_csv_lines_read(&r, f, 0);
    if (!t || !(t->path = strdup(path)) || got == -2) {
        trace_csv_lines_free(&r);
        trace_csv_free(t);
        return error_fail(err, "%s: out of memory", path);
    }
    if (got) {
        trace_csv_lines_free(&r);
        trace_csv_free(t);
        return error_at(err, path, 0, "read error");
    }
    /* A NUL would end a line early and hide the rest of the file. */
    const char *nul = memchr(r.text, 0, r.len);
    if (nul) {
        int lineno = 1;
        for (const char *c = r.text; c < nul; c++)
            lineno += *c == '\n';
        trace_csv_lines_free(&r);
        trace_csv_free(t);
        return error_at(err, path, lineno, "not a text file (contains a NUL byte)");
    }
    /* Upper bound on data rows: one per '\n', plus a last unterminated line. */
    size_t maxrows = 1;
    for (size_t i = 0; i < r.len; i++)
        maxrows += r.text[i] == '\n';
    if (!(t->lines = malloc(maxrows * sizeof *t->lines)))
        goto oom;

    size_t capcells = 0;
    char **fields;
    int n;
    const char *why;
    while ((got = trace_csv_lines_next(&r, &fields, &n, &why)) > 0) {
        if (!t->names) {
            t->header_line = r.line;
            t->ncols = n;
            if (!(t->names = malloc((size_t)n * sizeof *t->names)))
                goto oom;
            memcpy(t->names, fields, (size_t)n * sizeof *t->names);
            continue;
        }
        if (n != t->ncols) {
            int rc = error_at(err, path, r.line, "expected %d fields as in the header, got %d",
                              t->ncols, n);
            trace_csv_lines_free(&r);
            trace_csv_free(t);
            return rc;
        }
        if ((t->nrows + 1) * (size_t)n > capcells) {
            capcells = capcells ? 2 * capcells : 1024 * (size_t)n;
            char **nc = realloc(t->cells, capcells * sizeof *nc);
            if (!nc)
                goto oom;
            t->cells = nc;
        }
        memcpy(t->cells + t->nrows * (size_t)n, fields, (size_t)n * sizeof *fields);
        t->lines[t->nrows++] = r.line;
    }
    if (got == -2)
        goto oom;
    int rc = 0;
    if (got == -1)
        rc = error_at(err, path, r.line, "%s", why);
    else if (!t->names)
        rc = error_at(err, path, 1, "empty file, expected a header row");
    else if (t->nrows == 0)
        rc = error_at(err, path, t->header_line, "header but no data rows");
    t->text = r.text; /* the cells point into it */
    r.text = NULL;
    trace_csv_lines_free(&r);
    if (rc) {
        trace_csv_free(t);
        return rc;
    }
    *out = t;
    return 0;
oom:
    trace_csv_lines_free(&r);
    trace_csv_free(t);
    return error_fail(err, "%s: out of memory", path);
}

int trace_csv_column(const struct trace_csv *t, const char *spec, const char *what, int *col,
                     struct error *err)
{
    for (int i = 0; i < t->ncols; i++) {
        if (strcmp(t->names[i], spec) == 0) {
            *col = i;
            return 0;
        }
    }
    char *end;
    errno = 0;
    long n = strtol(spec, &end, 10);
    if (end != spec && !*end && !errno && spec[0] >= '0' && spec[0] <= '9') {
        if (n < 1 || n > t->ncols)
            return error_at(err, t->path, t->header_line,
                            "%s: column %ld out of range (the header has %d columns)", what, n,
                            t->ncols);
        *col = (int)n - 1;
        return 0;
    }
    return error_at(err, t->path, t->header_line, "%s: no column named '%s' in the header",
                    what, spec);
}

int trace_csv_numbers(const struct trace_csv *t, int col, unsigned checks, double *out,
                      struct error *err)
{
    char label[96];
    if (t->names[col][0])
        snprintf(label, sizeof label, "column '%s'", t->names[col]);
    else
        snprintf(label, sizeof label, "column %d", col + 1);
    for (size_t r = 0; r < t->nrows; r++) {
        const char *cell = t->cells[r * (size_t)t->ncols + (size_t)col];
        char *end;
        errno = 0;
        double x = strtod(cell, &end);
        int line = t->lines[r];
        if (end == cell || *end)
            return error_at(err, t->path, line, "%s: expected a number, got '%s'", label, cell);
        if (!isfinite(x))
            return error_at(err, t->path, line,
                            errno == ERANGE ? "%s: '%s' is out of range"
                                            : "%s: '%s' is not a finite number",
                            label, cell);
        if ((checks & TRACE_CSV_INTEGER) && x != floor(x))
            return error_at(err, t->path, line, "%s: expected an integer, got '%s'", label,
                            cell);
        if ((checks & TRACE_CSV_INTEGER) && fabs(x) > INT_MAX)
            return error_at(err, t->path, line, "%s: '%s' is out of range (at most %d)", label,
                            cell, INT_MAX);
        if ((checks & TRACE_CSV_NONNEG) && x < 0)
            return error_at(err, t->path, line, "%s: negative value '%s'", label, cell);
        out[r] = x;
    }
    return 0;
}

static int cell_equals(const char *cell, const char *value)
{
    if (strcmp(cell, value) == 0)
        return 1;
    char *e1, *e2;
    double a = strtod(cell, &e1), b = strtod(value, &e2);
    return e1 != cell && !*e1 && e2 != value && !*e2 && a == b;
}

size_t trace_csv_keep_rows(struct trace_csv *t, int col, const char *value)
{
    size_t kept = 0, nc = (size_t)t->ncols;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!cell_equals(t->cells[r * nc + (size_t)col], value))
            continue;
        if (kept != r) {
            memmove(t->cells + kept * nc, t->cells + r * nc, nc * sizeof *t->cells);
            t->lines[kept] = t->lines[r];
        }
        kept++;
    }
    t->nrows = kept;
    return kept;
}
