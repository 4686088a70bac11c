/* predictor.h: online per-worker latency predictors: from the task times a
 * worker has shown so far (per unit of cost), the time of its next one.
 *
 *   ewma  p <- alpha x + (1 - alpha) p
 *   ar1   x_t - mu = phi (x_{t-1} - mu) + e_t, with mu, the variance and
 *         the lag-1 covariance tracked as exponentially weighted moments
 *         (weight alpha on the newest), phi = cov / var clipped to [-1, 1];
 *         predicts mu + phi (x_last - mu)
 *   mlp   one small network shared by all workers (models layer: "8: dense16
 *         tanh dense1"), reading a worker's last 8 times (divided by the
 *         running mean of all times) and trained online with Adam on the
 *         squared error of every new observation; EWMA until a worker has
 *         8 times. A feed-forward window, not an LSTM: the models layer has
 *         no recurrent layer.
 * Before a worker's first observation the prediction is the mean of all
 * workers' first observations so far (NAN while there are none).
 * The error of each prediction made before an observation is accumulated
 * (mean absolute error, and relative to the observation).
 */
#ifndef STRAG_PREDICTOR_H
#define STRAG_PREDICTOR_H

#include "sim/error.h"

enum predictor_kind { PREDICTOR_EWMA, PREDICTOR_AR1, PREDICTOR_MLP };

enum { PREDICTOR_WINDOW = 8 }; /* mlp: times per input */

struct predictor_worker {
    long seen;
    double last, mean, var, cov, level; /* level: the ewma */
    float window[PREDICTOR_WINDOW];     /* mlp: the last times, oldest first */
};

struct model;
struct optim;

struct predictor {
    enum predictor_kind kind;
    double alpha;
    int workers;
    struct predictor_worker *w; /* (workers) */
    double first_sum;           /* sum of first observations */
    long first_count;
    double abs_err, rel_err;    /* sums over scored predictions */
    long scored;
    struct model *net;          /* mlp */
    struct optim *opt;
    double scale_sum;           /* mlp: sum and count of all times (input scale) */
    long scale_count;
};

/* Parses "ewma|ar1|mlp"; 0, or -1 for anything else. */
int predictor_kind_parse(const char *name, enum predictor_kind *kind);

int predictor_init(struct predictor *p, enum predictor_kind kind, double alpha, int workers,
                   struct error *err);
void predictor_free(struct predictor *p);

/* Predicted time per unit cost of worker w's next task (NAN: no data yet). */
double predictor_predict(const struct predictor *p, int w);

/* Worker w's task took x per unit cost: score the prediction, then learn.
 * Fails only when the mlp's training step does. */
int predictor_observe(struct predictor *p, int w, double x, struct error *err);

/* Mean absolute error and mean relative error of the scored predictions. */
double predictor_mae(const struct predictor *p);
double predictor_rel_mae(const struct predictor *p);

#endif
