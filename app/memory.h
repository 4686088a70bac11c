/* memory.h: how much memory a sweep point will need, estimated before it
 * runs, against what the machine has (MemAvailable) or `run --max-memory`:
 * a point that cannot fit is refused up front instead of dying half-way.
 * The estimate counts what grows with the point's size (8 bytes per job
 * latency kept for the quantiles, job rows, iteration rows, the inference
 * workload's arrival bitmasks) plus the data set a workload loads; it is a
 * lower bound, not an accounting of every allocation.
 */
#ifndef STRAG_MEMORY_H
#define STRAG_MEMORY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/params.h"

/* "512M", "2G", "1.5G", "4096" (bytes; K, M, G, T are powers of 1024) ->
 * bytes; false if s is not such a size. */
bool memory_parse_size(const char *s, double *bytes);

/* MemAvailable of /proc/meminfo in bytes, or INFINITY when unknown. */
double memory_available(void);

/* The point's estimate in bytes; *sizing_key (when not NULL) the key that
 * sizes it (workload.jobs or workload.iterations). */
double memory_estimate(const struct params *p, const char **sizing_key);

/* "8.0 GB", "512 bytes" */
void memory_format(double bytes, char *buf, size_t len);

/* Refuses the point when its estimate exceeds `limit` bytes (`limit_name`
 * says where the limit came from, for the message), naming the key that
 * sizes it (workload.jobs or workload.iterations). */
int memory_check(const struct params *p, double limit, const char *limit_name,
                 struct error *err);

#endif
