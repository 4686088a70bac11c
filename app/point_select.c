/* point_select.c: --points LIST and --reverse (see point_select.h). */
#include "app/point_select.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_FAIL(...) error_at(err, NULL, 0, "stragsim run: --points: " __VA_ARGS__)

/* A 1-based point number at *s (digits only); advances *s. 0 when none. */
static size_t point_number(const char **s)
{
    if (!isdigit((unsigned char)**s))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(*s, &end, 10);
    *s = end;
    return errno || v > (size_t)-1 / 2 ? (size_t)-1 / 2 : (size_t)v;
}

/* Appends the items of `list` to order (room for `points`), marking `seen`. */
static int select_list(const char *list, size_t points, size_t *order, size_t *n, bool *seen,
                       struct error *err)
{
    const char *s = list;
    for (;;) {
        const char *item = s;
        size_t lo = point_number(&s), hi = lo;
        if (lo && *s == '-') {
            s++;
            hi = point_number(&s);
        }
        size_t len = strcspn(item, ",");
        if (!lo || !hi || (*s != ',' && *s != '\0'))
            return SELECT_FAIL("'%.*s' is not a point number or a range such as 2-5 "
                               "(points are numbered 1 to %zu)",
                               (int)(len > 64 ? 64 : len), item, points);
        if (hi < lo)
            return SELECT_FAIL("the range %zu-%zu is empty", lo, hi);
        if (hi > points)
            return SELECT_FAIL("point %zu does not exist (points are numbered 1 to %zu)", hi,
                               points);
        for (size_t i = lo; i <= hi; i++) {
            if (seen[i - 1])
                return SELECT_FAIL("point %zu is listed twice", i);
            seen[i - 1] = true;
            order[(*n)++] = i - 1;
        }
        if (*s == '\0')
            return STRAG_OK;
        s++; /* the comma */
    }
}

int point_select(const char *list, bool reverse, size_t points, size_t **order, size_t *n,
                 struct error *err)
{
    *n = 0;
    *order = malloc((points ? points : 1) * sizeof **order);
    bool *seen = calloc(points ? points : 1, sizeof *seen);
    int rc = *order && seen ? STRAG_OK : error_fail(err, "out of memory");
    if (!rc && list)
        rc = select_list(list, points, *order, n, seen, err);
    for (size_t i = 0; !rc && !list && i < points; i++)
        (*order)[(*n)++] = i;
    for (size_t i = 0; !rc && reverse && i < *n / 2; i++) {
        size_t t = (*order)[i];
        (*order)[i] = (*order)[*n - 1 - i];
        (*order)[*n - 1 - i] = t;
    }
    free(seen);
    if (rc) {
        free(*order);
        *order = NULL;
        *n = 0;
    }
    return rc;
}
