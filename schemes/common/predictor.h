/* predictor.h: online per-worker latency predictors: from the task times a
 * worker has shown so far (per unit of cost), the time of its next one.
 *
 *   ewma  p <- alpha x + (1 - alpha) p
 *   ar1   x_t - mu = phi (x_{t-1} - mu) + e_t, with mu, the variance and
 *         the lag-1 covariance tracked as exponentially weighted moments
 *         (weight alpha on the newest), phi = cov / var clipped to [-1, 1];
 *         predicts mu + phi (x_last - mu)
 *   mlp   one small network shared by all workers (models layer:
 *         "W: denseH tanh dense1", W = 8 and H = 16 by default), reading a
 *         worker's last W times (divided by the running mean of all times)
 *         and trained online with Adam on the squared error of every new
 *         observation; EWMA until a worker has W times.
 *   lstm  the same, with a recurrent network over the window read as a
 *         sequence of W scalars ("1x1xW: lstmH dense1"): the window's order
 *         is built in rather than learnt position by position.
 * mlp and lstm share everything but the model spec (predictor_net_options:
 * hidden size H, window W, Adam learning rate).
 * Before a worker's first observation the prediction is the mean of all
 * workers' first observations so far (NAN while there are none).
 * The error of each prediction made before an observation is accumulated
 * (mean absolute error, and relative to the observation), together with the
 * error of the naive baseline on the same observations: the running mean of
 * every worker's times so far (what a predictor that ignores who is slow
 * would say).
 */
#ifndef STRAG_PREDICTOR_H
#define STRAG_PREDICTOR_H

#include "base/error.h"

enum predictor_kind { PREDICTOR_EWMA, PREDICTOR_AR1, PREDICTOR_MLP, PREDICTOR_LSTM };

/* mlp, lstm: the default window and the largest */
enum { PREDICTOR_WINDOW = 8, PREDICTOR_WINDOW_MAX = 32 };

/* The network of the mlp and lstm predictors. */
struct predictor_net_options {
    int hidden; /* units of the hidden layer (dense or lstm) */
    int window; /* times per input, 1..PREDICTOR_WINDOW_MAX */
    double lr;  /* Adam learning rate */
};

struct predictor_worker {
    long seen;
    double last, mean, var, cov, level;  /* level: the ewma */
    float window[PREDICTOR_WINDOW_MAX];  /* mlp, lstm: the last `window` times, oldest first */
};

struct model;
struct optim;

struct predictor {
    enum predictor_kind kind;
    double alpha;
    struct predictor_net_options net_options; /* mlp, lstm */
    int workers;
    struct predictor_worker *w; /* (workers) */
    double first_sum;           /* sum of first observations */
    long first_count;
    double abs_err, rel_err;    /* sums over scored predictions */
    long scored;
    double all_sum;             /* sum and count of every observation (baseline) */
    long all_count;
    double baseline_abs_err;    /* sum over scored predictions of |running mean - x| */
    struct model *net;          /* mlp, lstm */
    struct optim *opt;
    double scale_sum;           /* mlp, lstm: sum and count of all times (input scale) */
    long scale_count;
};

/* Parses "ewma|ar1|mlp|lstm"; 0, or -1 for anything else. */
int predictor_kind_parse(const char *name, enum predictor_kind *kind);

/* hidden 16, window PREDICTOR_WINDOW, lr 0.01 */
struct predictor_net_options predictor_net_defaults(void);

/* predictor_init_net with predictor_net_defaults(). */
int predictor_init(struct predictor *p, enum predictor_kind kind, double alpha, int workers,
                   struct error *err);

/* A predictor for `workers` workers; `net` (NULL: the defaults) sizes the mlp
 * and lstm networks and is ignored by the other kinds. Errors: a window
 * outside 1..PREDICTOR_WINDOW_MAX, a hidden size < 1 or lr <= 0, no memory. */
int predictor_init_net(struct predictor *p, enum predictor_kind kind, double alpha, int workers,
                       const struct predictor_net_options *net, struct error *err);
void predictor_free(struct predictor *p);

/* Predicted time per unit cost of worker w's next task (NAN: no data yet). */
double predictor_predict(const struct predictor *p, int w);

/* Worker w's task took x per unit cost: score the prediction, then learn.
 * Fails only when the network's training step does. */
int predictor_observe(struct predictor *p, int w, double x, struct error *err);

/* Mean absolute error and mean relative error of the scored predictions. */
double predictor_mae(const struct predictor *p);
double predictor_rel_mae(const struct predictor *p);

/* Mean absolute error of the running-mean baseline on the scored observations. */
double predictor_baseline_mae(const struct predictor *p);

#endif
