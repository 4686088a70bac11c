/* params.h: config keys (the table type every layer declares its keys with)
 * and resolved params (the key -> value map of one sweep point).
 *
 * Keys are named "section.key" ("latency.rate", "scheme.k"). Each layer owns
 * a NULL-name-terminated `struct config_key` table of the keys it reads: the
 * driver owns experiment/cluster/workload, traces/ owns latency, each scheme
 * owns its scheme.* keys. The driver validates every value against those
 * tables (type, range, choices) before anything is created, fills in
 * defaults, and `stragsim config --list` prints the same tables, so the
 * reference and the validator cannot drift.
 *
 * Params remember where each value came from (file, line) so a create
 * function that finds a semantic problem ("slow_prob + ... > 1") can still
 * report "file:line: ..." with error_at_key().
 */
#ifndef STRAG_PARAMS_H
#define STRAG_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

enum key_type {
    KEY_INT,    /* decimal integer */
    KEY_REAL,   /* floating point (strtod syntax, finite) */
    KEY_BOOL,   /* true|false|yes|no|on|off|1|0 */
    KEY_STRING, /* any text */
    KEY_ENUM,   /* one of `choices` ("a|b|c") */
    KEY_PATH,   /* a file path, relative to the directory its value came with (params_path) */
};

enum key_flags {
    KEY_MIN_OPEN = 1, /* value must be > min (not >=) */
    KEY_MAX_OPEN = 2, /* value must be < max (not <=) */
    KEY_LIST = 4,     /* a comma-separated list of values of `type` */
};

struct config_key {
    const char *name;          /* "section.key"; NULL ends a table */
    enum key_type type;
    const char *default_value; /* NULL: no default (unset unless given) */
    double min, max;           /* inclusive range for INT/REAL (see flags) */
    unsigned flags;
    const char *choices;       /* KEY_ENUM: "a|b|c" */
    const char *meaning;       /* one line for `stragsim config --list` */
};

/* Checks `value` against `key` (type, range, choices). On failure writes a
 * short reason ("expected an integer, got 'abc'", "must be > 0") into why. */
bool config_key_check(const struct config_key *key, const char *value, char *why, size_t whylen);

/* Finds `name` in a NULL-terminated table, or NULL. */
const struct config_key *config_key_find(const struct config_key *table, const char *name);

struct params;

struct params *params_new(void);
void params_free(struct params *p);
struct params *params_copy(const struct params *p);

/* Sets (or replaces) key = value, remembering where it was written. */
int params_set(struct params *p, const char *key, const char *value, const char *file, int line);
/* The same, also remembering `dir`, the directory a relative KEY_PATH value
 * is relative to (the config file's; NULL, as with params_set: the working
 * directory). The value itself is kept as written. */
int params_set_dir(struct params *p, const char *key, const char *value, const char *file,
                   int line, const char *dir);
/* Removes key if present. */
void params_unset(struct params *p, const char *key);

const char *params_get(const struct params *p, const char *key); /* NULL if unset */
bool params_has(const struct params *p, const char *key);

/* A KEY_PATH value resolved: the value itself when absolute (or set without
 * a directory), else dir/value with the directory it was set with. False
 * when the key is unset or the path does not fit in out. */
bool params_path(const struct params *p, const char *key, char *out, size_t outlen);
/* The rule params_path applies: `path` itself when absolute (or dir is NULL
 * or empty), else dir/path; false when it does not fit in out. */
bool params_path_resolve(const char *dir, const char *path, char *out, size_t outlen);
/* Its inverse: absolute `path` written relative to absolute directory `dir`
 * (both without "." or ".." components or repeated slashes), e.g. dir
 * /a/b/c, path /a/d/e -> ../../d/e; "." for dir itself. False when it does
 * not fit in out or either is not absolute. */
bool params_path_relative(const char *dir, const char *path, char *out, size_t outlen);

/* Typed getters for values already validated against their key tables.
 * An unset key gives 0 / 0.0 / false / NULL: check params_has() when a key
 * has no default and absence matters. */
long params_int(const struct params *p, const char *key);
double params_real(const struct params *p, const char *key);
bool params_bool(const struct params *p, const char *key);
const char *params_string(const struct params *p, const char *key);
/* KEY_LIST values: parses up to `max` reals, returns how many (or -1 on error). */
int params_real_list(const struct params *p, const char *key, double *out, int max);

/* Where a key's value came from; for an unset key, where its section was
 * opened (or the config file, line 0). */
void params_where(const struct params *p, const char *key, const char **file, int *line);

/* Records where a section header was, for errors about missing keys. */
void params_set_section_line(struct params *p, const char *section, const char *file, int line);

/* The `file` of a value set on the command line starts with this: the
 * whole --set argument ("--set cluster.workers=2", line 0) is its place. */
#define PARAMS_FROM_SET "--set "
/* True when a value's `file` (from params_where) is such a --set. */
bool params_from_set(const char *file);

/* error_at() at the place `key` came from: "file:line: <key>: <message>".
 * When the message names another key whose value came from a --set (and
 * `key` itself did not), that --set is the place: the override caused it. */
int error_at_key(struct error *err, const struct params *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Iteration in insertion order (the order keys were first set). */
size_t params_count(const struct params *p);
const char *params_key_at(const struct params *p, size_t i);
const char *params_value_at(const struct params *p, size_t i);

/* Canonical text "k1=v1\nk2=v2\n..." sorted by key, excluding keys for which
 * skip(key) is true: the basis of a point's key. Caller frees. */
char *params_canonical(const struct params *p, bool (*skip)(const char *key));

#endif
