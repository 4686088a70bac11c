/* memory.c: the memory estimate of a sweep point (see memory.h). */
#include "app/memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"

/* Fashion-MNIST as floats: 60000 training and 10000 test images of 784
 * pixels, plus labels. */
#define TEST_SET_BYTES (10000.0 * 785 * 4)
#define TRAIN_SET_BYTES (60000.0 * 785 * 4)

bool memory_parse_size(const char *s, double *bytes)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || !isfinite(x) || x <= 0)
        return false;
    static const char units[] = "KMGT";
    const char *u = *end ? strchr(units, *end) : NULL;
    if (*end && (!u || end[1]))
        return false;
    *bytes = u ? x * pow(1024.0, (double)(u - units + 1)) : x;
    return true;
}

double memory_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return INFINITY;
    char line[256];
    double kb = INFINITY;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024.0;
}

double memory_estimate(const struct params *p, const char **sizing_key)
{
    const char *wl = params_get(p, "workload.kind");
    bool rows = params_has(p, "workload.job_rows") && params_bool(p, "workload.job_rows");
    double per_job = 8.0 + (rows ? (double)sizeof(struct job_row) : 0.0); /* latency (+ row) */
    double jobs = (double)params_int(p, "workload.jobs"), bytes;
    const char *key = "workload.jobs";
    if (wl && (strcmp(wl, "training") == 0 || strcmp(wl, "pipeline") == 0)) {
        key = "workload.iterations";
        bytes = TRAIN_SET_BYTES + TEST_SET_BYTES +
                (double)params_int(p, "workload.iterations") *
                    ((double)sizeof(struct iteration_row) + per_job);
    } else if (wl && strcmp(wl, "inference") == 0) {
        double words = ceil((double)params_int(p, "cluster.workers") / 64.0); /* arrivals */
        bytes = TEST_SET_BYTES + jobs * (per_job + 8.0 * words);
    } else {
        bytes = (jobs + (double)params_int(p, "workload.warmup")) * per_job;
    }
    if (sizing_key)
        *sizing_key = key;
    return bytes;
}

void memory_format(double bytes, char *buf, size_t len)
{
    static const char *const names[] = {"bytes", "kB", "MB", "GB", "TB"};
    int u = 0;
    for (; u < 4 && bytes >= 1024.0; u++)
        bytes /= 1024.0;
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, names[u]);
}

int memory_check(const struct params *p, double limit, const char *limit_name,
                 struct error *err)
{
    const char *key;
    double bytes = memory_estimate(p, &key);
    if (bytes <= limit)
        return 0;
    char need[32], have[32];
    memory_format(bytes, need, sizeof need);
    memory_format(limit, have, sizeof have);
    return error_at_key(err, p, key, "the point needs about %s of memory, more than %s %s", need,
                        have, limit_name);
}
