/* cmd_config.c: `stragsim config --list`: the reference of every config key,
 * printed from config_tables[], the same tables the config loader validates
 * with, so the reference cannot drift from what is accepted. Also lists the
 * latency kinds and schemes with their one-line summaries. Reads tables
 * only; validation itself is config.c's.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "schemes/common/learned.h"
#include "schemes/scheme.h"
#include "app/cli.h"
#include "app/commands.h"
#include "app/config.h"
#include "workloads/workload.h"
#include "traces/latency.h"

static const char config_usage[] =
    "usage: stragsim config --list [SECTION]\n"
    "\n"
    "Prints every config key the loader accepts, one per line:\n"
    "  section.key  type  default  range/choices  meaning\n"
    "then the latency kinds and schemes. A SECTION (experiment, cluster,\n"
    "latency, workload, scheme, train, ...) prints only that section's keys.\n"
    "\n"
    "  --list      the key reference\n"
    "  -h, --help  this text\n";

static const char *const type_names[] = {
    [KEY_INT] = "int",   [KEY_REAL] = "real", [KEY_BOOL] = "bool",
    [KEY_STRING] = "string", [KEY_ENUM] = "enum", [KEY_PATH] = "path",
};

static void format_type(const struct config_key *k, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", type_names[k->type], (k->flags & KEY_LIST) ? "-list" : "");
}

/* "[0, inf)", "(0, 1]", "any"; choices for enums; "-" when neither applies. */
static void format_range(const struct config_key *k, char *buf, size_t len)
{
    if (k->type == KEY_ENUM) {
        snprintf(buf, len, "%s", k->choices ? k->choices : "-");
    } else if (k->type == KEY_BOOL) {
        snprintf(buf, len, "true|false");
    } else if (k->type == KEY_INT || k->type == KEY_REAL) {
        if (isinf(k->min) && isinf(k->max)) {
            snprintf(buf, len, "any");
            return;
        }
        char lo[32], hi[32];
        if (isinf(k->min))
            snprintf(lo, sizeof lo, "(-inf");
        else
            snprintf(lo, sizeof lo, "%c%g", (k->flags & KEY_MIN_OPEN) ? '(' : '[', k->min);
        if (isinf(k->max))
            snprintf(hi, sizeof hi, "inf)");
        else
            snprintf(hi, sizeof hi, "%g%c", k->max, (k->flags & KEY_MAX_OPEN) ? ')' : ']');
        snprintf(buf, len, "%s, %s", lo, hi);
    } else {
        snprintf(buf, len, "-");
    }
}

/* The heading of a table: which part of the config it belongs to. */
static void table_heading(FILE *f, const struct config_key *table)
{
    if (table == driver_keys) {
        fprintf(f, "# experiment, cluster, workload, train: the driver\n");
        return;
    }
    if (table == latency_keys) {
        fprintf(f, "# latency: latency.kind selects which keys matter\n");
        return;
    }
    if (table == learned_config_keys) {
        char codes[256];
        if (!scheme_trainable_names(", ", codes, sizeof codes))
            snprintf(codes, sizeof codes, "...");
        fprintf(f, "# learned codes (%s): training and serving\n", codes);
        return;
    }
    if (table == scheme_common_keys) {
        fprintf(f, "# scheme: keys every scheme reads\n");
        return;
    }
    for (const struct workload_ops *const *w = workload_registry; *w; w++) {
        if ((*w)->keys == table) {
            fprintf(f, "# workload.kind = %s: %s\n", (*w)->name, (*w)->summary);
            return;
        }
    }
    for (const struct scheme_ops *const *s = scheme_registry; *s; s++) {
        if ((*s)->keys == table) {
            fprintf(f, "# scheme.kind = %s: %s\n", (*s)->name, (*s)->summary);
            return;
        }
    }
    fprintf(f, "#\n");
}

static bool in_section(const struct config_key *k, const char *section)
{
    size_t n = strlen(section);
    return !section[0] || (strncmp(k->name, section, n) == 0 && k->name[n] == '.');
}

/* Every key table: the config tables, then each workload's and each
 * scheme's own keys. */
enum { MAX_TABLES = 64 };
static size_t all_tables(const struct config_key **out)
{
    size_t n = 0;
    for (const struct config_key *const *t = config_tables; *t && n < MAX_TABLES; t++)
        out[n++] = *t;
    for (const struct workload_ops *const *w = workload_registry; *w && n < MAX_TABLES; w++)
        if ((*w)->keys && (*w)->keys->name)
            out[n++] = (*w)->keys;
    for (const struct scheme_ops *const *s = scheme_registry; *s && n < MAX_TABLES; s++)
        if ((*s)->keys && (*s)->keys->name)
            out[n++] = (*s)->keys;
    return n;
}

static void list_keys(FILE *f, const char *section)
{
    const struct config_key *tables[MAX_TABLES];
    size_t ntables = all_tables(tables);
    /* Column widths over every key shown, so the table lines up. */
    int wname = (int)strlen("section.key"), wtype = 4, wdef = 7, wrange = 13;
    char type[32], range[256];
    for (size_t t = 0; t < ntables; t++) {
        for (const struct config_key *k = tables[t]; k->name; k++) {
            if (!in_section(k, section))
                continue;
            format_type(k, type, sizeof type);
            format_range(k, range, sizeof range);
            int lens[4] = {(int)strlen(k->name), (int)strlen(type),
                           (int)strlen(k->default_value ? k->default_value : "-"),
                           (int)strlen(range)};
            int *w[4] = {&wname, &wtype, &wdef, &wrange};
            for (int i = 0; i < 4; i++)
                if (lens[i] > *w[i])
                    *w[i] = lens[i];
        }
    }
    /* A few long defaults and choice lists push their own row, not the table. */
    if (wdef > 16)
        wdef = 16;
    if (wrange > 32)
        wrange = 32;
    fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", wname, "section.key", wtype, "type", wdef,
            "default", wrange, "range/choices", "meaning");
    for (size_t t = 0; t < ntables; t++) {
        bool first = true;
        for (const struct config_key *k = tables[t]; k->name; k++) {
            if (!in_section(k, section))
                continue;
            if (first)
                table_heading(f, tables[t]);
            first = false;
            format_type(k, type, sizeof type);
            format_range(k, range, sizeof range);
            fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", wname, k->name, wtype, type, wdef,
                    k->default_value ? k->default_value : "-", wrange, range,
                    k->meaning ? k->meaning : "");
        }
    }
}

static void list_kinds(FILE *f)
{
    fprintf(f, "\nlatency kinds (latency.kind):\n");
    for (const struct latency_kind *const *k = latency_kinds; *k; k++)
        fprintf(f, "  %-12s %s\n", (*k)->name, (*k)->summary);
    fprintf(f, "\nschemes (scheme.kind):\n");
    for (const struct scheme_ops *const *s = scheme_registry; *s; s++) {
        char workloads[64] = "";
        static const struct {
            unsigned bit;
            const char *name;
        } names[] = {{SCHEME_LATENCY, "latency"},
                     {SCHEME_INFERENCE, "inference"},
                     {SCHEME_TRAINING, "training"},
                     {SCHEME_PIPELINE, "pipeline"}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if ((*s)->workloads & names[i].bit) {
                if (workloads[0])
                    strcat(workloads, ",");
                strcat(workloads, names[i].name);
            }
        }
        fprintf(f, "  %-12s %s (workloads: %s)\n", (*s)->name, (*s)->summary, workloads);
    }
}

int cmd_config(int argc, char **argv)
{
    bool list = false;
    const struct cli_option options[] = {
        {.name = "list", .kind = CLI_FLAG, .to = &list},
        {0},
    };
    const struct cli_command cmd = {.name = "config", .options = options, .usage = config_usage};
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status >= 0)
        return status;
    if (!list)
        return cli_error(&cmd, "%s", "nothing to do (usage: stragsim config --list [SECTION])");
    if (argc - first > 1)
        return cli_error(&cmd, "expected at most one SECTION, got extra argument '%s'",
                         argv[first + 1]);
    const char *section = argc - first == 1 ? argv[first] : "";
    bool known = !section[0];
    const struct config_key *tables[MAX_TABLES];
    size_t ntables = all_tables(tables);
    for (size_t t = 0; t < ntables && !known; t++)
        for (const struct config_key *k = tables[t]; k->name && !known; k++)
            known = in_section(k, section);
    if (!known)
        return cli_error(&cmd, "no keys in section '%s'", section);
    list_keys(stdout, section);
    if (!section[0])
        list_kinds(stdout);
    return 0;
}
