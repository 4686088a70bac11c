/* params.c: the resolved key -> value map of a sweep point, and checking a
 * value against its config_key. Small (tens of keys), so linear search. */
#include "base/params.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct param_entry {
    char *key, *value, *file;
    int line;
    char *dir; /* what a relative KEY_PATH value is relative to (NULL: the working directory) */
};

struct params {
    struct param_entry *e;
    size_t n, cap;
    struct param_entry *sections; /* key = section name, value unused */
    size_t nsec, capsec;
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

struct params *params_new(void) { return calloc(1, sizeof(struct params)); }

static void entries_free(struct param_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].key);
        free(e[i].value);
        free(e[i].file);
        free(e[i].dir);
    }
    free(e);
}

void params_free(struct params *p)
{
    if (!p)
        return;
    entries_free(p->e, p->n);
    entries_free(p->sections, p->nsec);
    free(p);
}

static int entry_put(struct param_entry **e, size_t *n, size_t *cap, const char *key,
                     const char *value, const char *file, int line, const char *dir)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*e)[i].key, key) == 0) {
            char *v = dup_or_null(value), *f = dup_or_null(file), *d = dup_or_null(dir);
            free((*e)[i].value);
            free((*e)[i].file);
            free((*e)[i].dir);
            (*e)[i].value = v;
            (*e)[i].file = f;
            (*e)[i].line = line;
            (*e)[i].dir = d;
            return 0;
        }
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        struct param_entry *ne = realloc(*e, nc * sizeof *ne);
        if (!ne)
            return -1;
        *e = ne;
        *cap = nc;
    }
    (*e)[*n] = (struct param_entry){strdup(key), dup_or_null(value), dup_or_null(file), line,
                                    dup_or_null(dir)};
    (*n)++;
    return 0;
}

int params_set(struct params *p, const char *key, const char *value, const char *file, int line)
{
    return entry_put(&p->e, &p->n, &p->cap, key, value, file, line, NULL);
}

int params_set_dir(struct params *p, const char *key, const char *value, const char *file,
                   int line, const char *dir)
{
    return entry_put(&p->e, &p->n, &p->cap, key, value, file, line, dir);
}

void params_set_section_line(struct params *p, const char *section, const char *file, int line)
{
    for (size_t i = 0; i < p->nsec; i++)
        if (strcmp(p->sections[i].key, section) == 0)
            return; /* first header wins */
    entry_put(&p->sections, &p->nsec, &p->capsec, section, NULL, file, line, NULL);
}

void params_unset(struct params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->e[i].key, key) == 0) {
            free(p->e[i].key);
            free(p->e[i].value);
            free(p->e[i].file);
            free(p->e[i].dir);
            memmove(&p->e[i], &p->e[i + 1], (p->n - i - 1) * sizeof p->e[0]);
            p->n--;
            return;
        }
    }
}

struct params *params_copy(const struct params *p)
{
    struct params *c = params_new();
    if (!c)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        params_set_dir(c, p->e[i].key, p->e[i].value, p->e[i].file, p->e[i].line, p->e[i].dir);
    for (size_t i = 0; i < p->nsec; i++)
        params_set_section_line(c, p->sections[i].key, p->sections[i].file, p->sections[i].line);
    return c;
}

static const struct param_entry *find(const struct params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->e[i].key, key) == 0)
            return &p->e[i];
    return NULL;
}

const char *params_get(const struct params *p, const char *key)
{
    const struct param_entry *e = find(p, key);
    return e ? e->value : NULL;
}

bool params_has(const struct params *p, const char *key) { return find(p, key) != NULL; }

bool params_path_resolve(const char *dir, const char *path, char *out, size_t outlen)
{
    int n = (path[0] == '/' || !dir || !*dir) ? snprintf(out, outlen, "%s", path)
                                               : snprintf(out, outlen, "%s/%s", dir, path);
    return n >= 0 && (size_t)n < outlen;
}

bool params_path_relative(const char *dir, const char *path, char *out, size_t outlen)
{
    if (dir[0] != '/' || path[0] != '/' || outlen == 0)
        return false;
    /* the longest common prefix that ends at a component boundary */
    size_t common = 0;
    for (size_t i = 0;; i++) {
        bool dir_end = dir[i] == '\0' || (dir[i] == '/' && dir[i + 1] == '\0');
        bool path_end = path[i] == '\0';
        if ((dir_end || dir[i] == '/') && (path_end || path[i] == '/'))
            common = i;
        if (dir_end || path_end || dir[i] != path[i])
            break;
    }
    size_t len = 0;
    out[0] = '\0';
    /* one ".." for each component of dir below the common prefix */
    for (const char *c = dir + common; *c; c++) {
        if (*c == '/' && c[1] && c[1] != '/') {
            int n = snprintf(out + len, outlen - len, "%s..", len ? "/" : "");
            if (n < 0 || (size_t)n >= outlen - len)
                return false;
            len += (size_t)n;
        }
    }
    const char *rest = path + common;
    while (*rest == '/')
        rest++;
    int n = snprintf(out + len, outlen - len, "%s%s", len && *rest ? "/" : "",
                     len || *rest ? rest : ".");
    return n >= 0 && (size_t)n < outlen - len;
}

bool params_path(const struct params *p, const char *key, char *out, size_t outlen)
{
    const struct param_entry *e = find(p, key);
    return e && e->value && params_path_resolve(e->dir, e->value, out, outlen);
}

long params_int(const struct params *p, const char *key)
{
    const char *v = params_get(p, key);
    return v ? strtol(v, NULL, 10) : 0;
}

double params_real(const struct params *p, const char *key)
{
    const char *v = params_get(p, key);
    return v ? strtod(v, NULL) : 0.0;
}

static int parse_bool(const char *v)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

bool params_bool(const struct params *p, const char *key)
{
    const char *v = params_get(p, key);
    return v && parse_bool(v) == 1;
}

const char *params_string(const struct params *p, const char *key) { return params_get(p, key); }

int params_real_list(const struct params *p, const char *key, double *out, int max)
{
    const char *v = params_get(p, key);
    if (!v)
        return 0;
    int n = 0;
    const char *s = v;
    while (*s) {
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (end == s || errno)
            return -1;
        if (n < max)
            out[n] = x;
        n++;
        while (isspace((unsigned char)*end))
            end++;
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        s = end;
    }
    return n;
}

void params_where(const struct params *p, const char *key, const char **file, int *line)
{
    const struct param_entry *e = find(p, key);
    if (e) {
        *file = e->file;
        *line = e->line;
        return;
    }
    const char *dot = strchr(key, '.');
    size_t len = dot ? (size_t)(dot - key) : strlen(key);
    for (size_t i = 0; i < p->nsec; i++) {
        if (strlen(p->sections[i].key) == len && strncmp(p->sections[i].key, key, len) == 0) {
            *file = p->sections[i].file;
            *line = p->sections[i].line;
            return;
        }
    }
    *file = p->nsec ? p->sections[0].file : NULL;
    *line = 0;
}

bool params_from_set(const char *file)
{
    return file && strncmp(file, PARAMS_FROM_SET, strlen(PARAMS_FROM_SET)) == 0;
}

static bool key_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.'; }

/* The first value set on the command line whose key `text` names as a whole
 * word ("... more than cluster.workers (2)"), or NULL. */
static const struct param_entry *set_named_in(const struct params *p, const char *text)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!params_from_set(p->e[i].file))
            continue;
        size_t kl = strlen(p->e[i].key);
        for (const char *s = strstr(text, p->e[i].key); s; s = strstr(s + 1, p->e[i].key)) {
            bool after_ok = !key_char(s[kl]) || (s[kl] == '.' && !key_char(s[kl + 1]));
            if ((s == text || !key_char(s[-1])) && after_ok)
                return &p->e[i];
        }
    }
    return NULL;
}

int error_at_key(struct error *err, const struct params *p, const char *key, const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const char *file;
    int line;
    params_where(p, key, &file, &line);
    const struct param_entry *cause = params_from_set(file) ? NULL : set_named_in(p, buf);
    if (cause)
        return error_at(err, cause->file, 0, "%s: %s", key, buf);
    return error_at(err, file, line, "%s: %s", key, buf);
}

size_t params_count(const struct params *p) { return p->n; }
const char *params_key_at(const struct params *p, size_t i) { return p->e[i].key; }
const char *params_value_at(const struct params *p, size_t i) { return p->e[i].value; }

static int cmp_entry_key(const void *a, const void *b)
{
    return strcmp((*(const struct param_entry *const *)a)->key,
                  (*(const struct param_entry *const *)b)->key);
}

char *params_canonical(const struct params *p, bool (*skip)(const char *key))
{
    const struct param_entry **order = malloc((p->n + 1) * sizeof *order);
    if (!order)
        return NULL;
    size_t m = 0, len = 1;
    for (size_t i = 0; i < p->n; i++) {
        if (skip && skip(p->e[i].key))
            continue;
        order[m++] = &p->e[i];
        len += strlen(p->e[i].key) + strlen(p->e[i].value ? p->e[i].value : "") + 2;
    }
    qsort(order, m, sizeof *order, cmp_entry_key);
    char *out = malloc(len), *w = out;
    if (out) {
        *w = 0;
        for (size_t i = 0; i < m; i++)
            w += sprintf(w, "%s=%s\n", order[i]->key, order[i]->value ? order[i]->value : "");
    }
    free(order);
    return out;
}

/* ---- checking a value against its key ---- */

/* strtol/strtod of a whole value (blanks after it allowed): 0 ok, -1 not
 * a number of that kind, -2 a number beyond what the type holds (ERANGE:
 * past LONG_MAX, or a double that overflows or underflows). */
static int parse_long_strict(const char *v, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (end == v || *end)
        return -1;
    *out = x; /* clamped to LONG_MIN/LONG_MAX on ERANGE */
    return errno == ERANGE ? -2 : errno ? -1 : 0;
}

static int parse_real_strict(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (end == v || *end)
        return -1;
    *out = x; /* +-HUGE_VAL, or 0 or a subnormal on ERANGE */
    if (errno == ERANGE)
        return -2;
    return errno || !isfinite(x) ? -1 : 0;
}

static bool check_range(const struct config_key *k, double x, char *why, size_t whylen)
{
    bool lo_ok = (k->flags & KEY_MIN_OPEN) ? x > k->min : x >= k->min;
    bool hi_ok = (k->flags & KEY_MAX_OPEN) ? x < k->max : x <= k->max;
    if (lo_ok && hi_ok)
        return true;
    if (!lo_ok)
        snprintf(why, whylen, "must be %s %g", (k->flags & KEY_MIN_OPEN) ? ">" : ">=", k->min);
    else
        snprintf(why, whylen, "must be %s %g", (k->flags & KEY_MAX_OPEN) ? "<" : "<=", k->max);
    return false;
}

/* A value beyond its type: "'1e999' is out of range", with the key's
 * bound when the clamped value breaks it. Returns false. */
static bool out_of_range(const struct config_key *k, const char *v, double clamped, char *why,
                         size_t whylen)
{
    char bound[128];
    if (!check_range(k, clamped, bound, sizeof bound))
        snprintf(why, whylen, "'%s' is out of range (%s)", v, bound);
    else
        snprintf(why, whylen, "'%s' is out of range", v);
    return false;
}

static bool check_one(const struct config_key *k, const char *v, char *why, size_t whylen)
{
    switch (k->type) {
    case KEY_INT: {
        long x;
        int rc = parse_long_strict(v, &x);
        if (rc == -2)
            return out_of_range(k, v, (double)x, why, whylen);
        if (rc) {
            snprintf(why, whylen, "expected an integer, got '%s'", v);
            return false;
        }
        return check_range(k, (double)x, why, whylen);
    }
    case KEY_REAL: {
        double x;
        int rc = parse_real_strict(v, &x);
        if (rc == -2)
            return out_of_range(k, v, x, why, whylen);
        if (rc) {
            snprintf(why, whylen, "expected a number, got '%s'", v);
            return false;
        }
        return check_range(k, x, why, whylen);
    }
    case KEY_BOOL:
        if (parse_bool(v) < 0) {
            snprintf(why, whylen, "expected true or false, got '%s'", v);
            return false;
        }
        return true;
    case KEY_ENUM: {
        size_t vl = strlen(v);
        for (const char *c = k->choices; c && *c;) {
            const char *bar = strchr(c, '|');
            size_t cl = bar ? (size_t)(bar - c) : strlen(c);
            if (cl == vl && strncmp(c, v, vl) == 0)
                return true;
            c = bar ? bar + 1 : c + cl;
        }
        snprintf(why, whylen, "expected one of %s, got '%s'", k->choices ? k->choices : "", v);
        return false;
    }
    case KEY_STRING:
    case KEY_PATH:
        if (!*v) {
            snprintf(why, whylen, "must not be empty");
            return false;
        }
        return true;
    }
    return false;
}

bool config_key_check(const struct config_key *key, const char *value, char *why, size_t whylen)
{
    if (!(key->flags & KEY_LIST))
        return check_one(key, value, why, whylen);
    /* every comma-separated item, trimmed, must be a valid value: an empty
     * item ("1,,2", "1,2,") is an error, as it is for params_real_list() */
    const char *s = value;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (!n) {
            snprintf(why, whylen, *value ? "empty item in list '%s'" : "must not be empty", value);
            return false;
        }
        char *item = strndup(s, n);
        if (!item) {
            snprintf(why, whylen, "out of memory");
            return false;
        }
        bool ok = check_one(key, item, why, whylen);
        free(item);
        if (!ok)
            return false;
        if (!comma)
            return true;
        s = comma + 1;
    }
}

const struct config_key *config_key_find(const struct config_key *table, const char *name)
{
    for (; table && table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}
