/* stats.h: streaming aggregates of one sweep point's job latencies.
 *
 * Every sample is kept (a double array: 10^7 jobs = 80 MB) so percentiles
 * are exact; mean and variance are updated online (Welford). The standard
 * error of the mean is estimated by batch means: the samples, in the order
 * they were added, are cut into `batches` consecutive batches and the spread
 * of the batch means gives the error. Unlike sqrt(var/n) this stays valid
 * for correlated output (queueing: consecutive jobs wait behind each other)
 * as long as a batch is much longer than the correlation time; with i.i.d.
 * samples both estimates agree. This module only counts: it knows nothing
 * about jobs, engines or metrics names.
 */
#ifndef STRAG_STATS_H
#define STRAG_STATS_H

#include <stddef.h>

/* Batch count of stats_batch_se() callers that have no reason to pick
 * another: 20 batches give the error to within about 16% (chi^2, 19 dof). */
enum { STATS_BATCHES = 20 };

struct stats;

/* capacity_hint: expected sample count (0 if unknown); the array grows. */
struct stats *stats_new(size_t capacity_hint);
void stats_free(struct stats *s);
void stats_reset(struct stats *s); /* forget all samples, keep the memory */

/* Returns 0, or -1 when out of memory (the sample is then not counted). */
int stats_add(struct stats *s, double x);

size_t stats_count(const struct stats *s);
double stats_mean(const struct stats *s);     /* NAN when empty */
double stats_variance(const struct stats *s); /* sample variance (n-1); NAN when n < 2 */

/* Batch-means standard error of the mean with `batches` batches of
 * floor(n/batches) consecutive samples (the last n mod batches samples are
 * left out). With fewer than 2*batches samples it falls back to the i.i.d.
 * estimate sqrt(variance/n). NAN when n < 2. Reads the samples in insertion
 * order, so call it before stats_quantile(), which reorders them. */
double stats_batch_se(const struct stats *s, int batches);

/* The q-quantile (0 <= q <= 1), linearly interpolated between order
 * statistics (R's type 7: position (n-1)q). Found by selection in O(n), not
 * by sorting; it reorders the stored samples, and the next call selects
 * only on its side of this one's order statistic (p50, then p99, then p99.9
 * each select among fewer). NAN when empty. */
double stats_quantile(struct stats *s, double q);

#endif
