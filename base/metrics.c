/* metrics.c: the named number list of metrics.h. */
#include "base/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int metric_list_set(struct metric_list *m, const char *name, double value)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->names[i], name) == 0) {
            m->values[i] = value;
            return 0;
        }
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 16;
        char **nn = realloc(m->names, nc * sizeof *nn);
        if (!nn)
            return -1;
        m->names = nn;
        double *nv = realloc(m->values, nc * sizeof *nv);
        if (!nv)
            return -1;
        m->values = nv;
        m->cap = nc;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    m->names[m->n] = copy;
    m->values[m->n] = value;
    m->n++;
    return 0;
}

bool metric_list_find(const struct metric_list *m, const char *name, double *value)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->names[i], name) == 0) {
            *value = m->values[i];
            return true;
        }
    }
    return false;
}

double metric_list_get(const struct metric_list *m, const char *name)
{
    double value;
    return metric_list_find(m, name, &value) ? value : metric_undefined();
}

/* A quiet NaN (exponent all ones, top mantissa bit set) with payload 0x55aa. */
#define UNDEFINED_BITS 0x7ff80000000055aaULL
#define SIGN_BIT 0x8000000000000000ULL

double metric_undefined(void)
{
    uint64_t bits = UNDEFINED_BITS;
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

bool metric_is_undefined(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits & ~SIGN_BIT) == UNDEFINED_BITS;
}

int metric_list_check(const struct metric_list *m, const char **bad)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!isfinite(m->values[i]) && !metric_is_undefined(m->values[i])) {
            *bad = m->names[i];
            return -1;
        }
    }
    return 0;
}

void metric_list_clear(struct metric_list *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->names);
    free(m->values);
    *m = (struct metric_list){0};
}
