/* metrics.c: the named number list of metrics.h. */
#include "sim/metrics.h"

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

double metric_list_get(const struct metric_list *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->names[i], name) == 0)
            return m->values[i];
    return NAN;
}

void metric_list_clear(struct metric_list *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->names);
    free(m->values);
    *m = (struct metric_list){0};
}
