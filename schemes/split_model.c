/* split_model.c: the split-image learned decoder: patches, node and decoder
 * networks, joint training over straggler masks, evaluation per straggler
 * count with the averaging baseline (split_model.h), and the trainer
 * `stragsim train` runs from a config's keys. No serving. */
#include "schemes/split_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/weights.h"
#include "base/clock.h"
#include "base/rng.h"

const char split_tilings[] = "auto|rows|cols|grid";

/* Whether an R x C grid cuts 28x28 into equal tiles. */
static bool grid_tiles(int rows, int cols)
{
    return rows > 0 && cols > 0 && FMNIST_ROWS % rows == 0 && FMNIST_COLS % cols == 0;
}

int split_tile(int nodes, const char *tiling, int grid_rows, int *rows, int *cols,
               bool *grid_at, struct error *err)
{
    *rows = *cols = 0;
    *grid_at = false;
    if (nodes < 2 || nodes > SPLIT_MAX_NODES)
        return error_at(err, NULL, 0, "patches must be in 2..%d, got %d", SPLIT_MAX_NODES,
                        nodes);
    if (strcmp(tiling, "rows") == 0 || strcmp(tiling, "cols") == 0) {
        if (FMNIST_ROWS % nodes != 0)
            return error_at(err, NULL, 0,
                            "%d %s do not tile the 28x28 image (28 is not a multiple of %d)",
                            nodes, tiling, nodes);
        *rows = tiling[0] == 'r' ? nodes : 1;
        *cols = tiling[0] == 'r' ? 1 : nodes;
        return STRAG_OK;
    }
    if (strcmp(tiling, "grid") == 0) {
        *grid_at = true;
        if (grid_rows < 1)
            return error_at(err, NULL, 0, "tiling grid needs grid_rows (the grid's rows)");
        if (nodes % grid_rows != 0)
            return error_at(err, NULL, 0, "grid_rows = %d does not divide patches = %d",
                            grid_rows, nodes);
        if (!grid_tiles(grid_rows, nodes / grid_rows))
            return error_at(err, NULL, 0,
                            "a %d x %d grid does not tile the 28x28 image (28 is not a "
                            "multiple of both)",
                            grid_rows, nodes / grid_rows);
        *rows = grid_rows;
        *cols = nodes / grid_rows;
        return STRAG_OK;
    }
    if (strcmp(tiling, "auto") != 0)
        return error_at(err, NULL, 0, "tiling must be one of %s, got '%s'", split_tilings,
                        tiling);
    /* the squarest R x C with R >= C: the fewest rows from sqrt(N) up */
    for (int r = 1; r <= nodes; r++)
        if (nodes % r == 0 && r >= nodes / r && grid_tiles(r, nodes / r)) {
            *rows = r;
            *cols = nodes / r;
            return STRAG_OK;
        }
    return error_at(err, NULL, 0,
                    "no grid of %d equal patches tiles the 28x28 image (patch rows and "
                    "columns must divide 28)",
                    nodes);
}

int split_tile_params(const struct params *p, int nodes, int *rows, int *cols,
                      struct error *err)
{
    const char *tiling = learned_string_or(p, "scheme.tiling", "auto");
    bool grid = strcmp(tiling, "grid") == 0, grid_at;
    int grid_rows = grid ? (int)learned_int_or(p, "scheme.grid_rows", 0) : 0;
    struct error e;
    if (!split_tile(nodes, tiling, grid_rows, rows, cols, &grid_at, &e))
        return STRAG_OK;
    const char *key = !grid_at ? "scheme.patches" : grid_rows ? "scheme.grid_rows" : "scheme.tiling";
    return error_at_key(err, p, key, "%s", e.msg);
}

/* Patch i's top-left corner. */
static void patch_origin(const struct split_nets *s, int i, int *y, int *x)
{
    int per_row = FMNIST_COLS / s->patch_w;
    *y = (i / per_row) * s->patch_h;
    *x = (i % per_row) * s->patch_w;
}

void split_patch(const struct split_nets *s, int i, const float *image, float *patch)
{
    int y0, x0;
    patch_origin(s, i, &y0, &x0);
    for (int y = 0; y < s->patch_h; y++)
        memcpy(patch + y * s->patch_w, image + (y0 + y) * FMNIST_COLS + x0,
               (size_t)s->patch_w * sizeof *patch);
}

void split_nets_free(struct split_nets *s)
{
    if (!s)
        return;
    for (int i = 0; i < SPLIT_MAX_NODES; i++) {
        model_free(s->node[i]);
        model_free(s->avg[i]);
    }
    model_free(s->decoder);
    free(s);
}

int split_nets_new(const struct split_shape *shape, bool baseline, uint64_t seed,
                   struct split_nets **out, struct error *err)
{
    *out = NULL;
    int rc = STRAG_OK;
    if (shape->nodes < 2 || shape->nodes > SPLIT_MAX_NODES ||
        shape->grid_rows * shape->grid_cols != shape->nodes ||
        !grid_tiles(shape->grid_rows, shape->grid_cols))
        return error_at(err, NULL, 0, "%d patches in a %d x %d grid do not tile 28x28",
                        shape->nodes, shape->grid_rows, shape->grid_cols);
    struct split_nets *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    s->nodes = shape->nodes;
    s->mask_input = shape->mask_input;
    s->patch_h = FMNIST_ROWS / shape->grid_rows;
    s->patch_w = FMNIST_COLS / shape->grid_cols;
    struct act_shape patch = {1, s->patch_h, s->patch_w};
    for (int i = 0; !rc && i < s->nodes; i++) {
        /* the streams of N <= 7 kept; beyond, ranges that cannot meet */
        uint64_t node_stream = i < 7 ? 10 + (uint64_t)i : 100 + (uint64_t)i;
        uint64_t avg_stream = i < 7 ? 30 + (uint64_t)i : 200 + (uint64_t)i;
        rc = learned_net_new(&s->node[i], shape->node_model, patch, seed, node_stream, err);
        if (!rc && baseline)
            rc = learned_net_new(&s->avg[i], shape->node_model, patch, seed, avg_stream, err);
        if (!rc && baseline && s->avg[i]->outputs != FMNIST_CLASSES)
            rc = error_at(err, NULL, 0,
                          "node model '%s': the averaging baseline needs %d outputs, has %d",
                          shape->node_model, FMNIST_CLASSES, s->avg[i]->outputs);
    }
    if (!rc)
        s->node_out = s->node[0]->outputs;
    struct act_shape dec = {s->nodes * s->node_out + (s->mask_input ? s->nodes : 0), 1, 1};
    if (!rc)
        rc = learned_net_new(&s->decoder, shape->decoder_model, dec, seed, 20, err);
    if (!rc && s->decoder->outputs != FMNIST_CLASSES)
        rc = error_at(err, NULL, 0, "decoder model '%s': needs %d outputs, has %d",
                      shape->decoder_model, FMNIST_CLASSES, s->decoder->outputs);
    if (rc) {
        split_nets_free(s);
        return rc;
    }
    *out = s;
    return STRAG_OK;
}

int split_nets_load(struct split_nets *s, const char *stem, struct error *err)
{
    char path[4096], part[32];
    int rc = STRAG_OK;
    for (int i = 0; !rc && i < s->nodes; i++) {
        snprintf(part, sizeof part, "node%d", i);
        rc = learned_weights_path(path, sizeof path, stem, part)
                 ? weights_load(s->node[i], path, err)
                 : error_at(err, stem, 0, "path too long");
        snprintf(part, sizeof part, "avg%d", i);
        if (!rc && s->avg[i])
            rc = learned_weights_path(path, sizeof path, stem, part)
                     ? weights_load(s->avg[i], path, err)
                     : error_at(err, stem, 0, "path too long");
    }
    if (!rc)
        rc = learned_weights_path(path, sizeof path, stem, "decoder")
                 ? weights_load(s->decoder, path, err)
                 : error_at(err, stem, 0, "path too long");
    return rc;
}

/* Patches of node i for B images: (B x h*w). */
static void gather_patches(const struct split_nets *s, int i, const float *images, int B,
                           float *patches)
{
    int P = s->patch_h * s->patch_w;
    for (int b = 0; b < B; b++)
        split_patch(s, i, images + (size_t)b * FMNIST_PIXELS, patches + (size_t)b * P);
}

int split_nodes_forward(struct split_nets *s, const float *images, int B, float *z,
                        struct error *err)
{
    float *patches = malloc((size_t)B * s->patch_h * s->patch_w * sizeof *patches);
    if (!patches)
        return error_fail(err, "out of memory");
    int rc = STRAG_OK;
    for (int i = 0; !rc && i < s->nodes; i++) {
        gather_patches(s, i, images, B, patches);
        const float *out;
        rc = model_forward(s->node[i], patches, B, &out, err);
        if (!rc)
            memcpy(z + (size_t)i * B * s->node_out, out, (size_t)B * s->node_out * sizeof *z);
    }
    free(patches);
    return rc;
}

/* Decoder input row of sample b under `erased` (bit i: node i missing):
 * row has N*O (+N) floats; z is N x B x O. */
static void decoder_row(const struct split_nets *s, const float *z, int B, int b,
                        unsigned erased, float *row)
{
    int O = s->node_out;
    for (int i = 0; i < s->nodes; i++) {
        bool gone = erased >> i & 1u;
        if (gone)
            memset(row + i * O, 0, (size_t)O * sizeof *row);
        else
            memcpy(row + i * O, z + ((size_t)i * B + b) * O, (size_t)O * sizeof *row);
        if (s->mask_input)
            row[s->nodes * O + i] = gone ? 0.0f : 1.0f;
    }
}

int split_decode(struct split_nets *s, const float *z, int B, unsigned erased, float *logits,
                 struct error *err)
{
    int D = s->decoder->input_size;
    float *in = malloc((size_t)B * D * sizeof *in);
    if (!in)
        return error_fail(err, "out of memory");
    for (int b = 0; b < B; b++)
        decoder_row(s, z, B, b, erased, in + (size_t)b * D);
    const float *out;
    int rc = model_forward(s->decoder, in, B, &out, err);
    if (!rc)
        memcpy(logits, out, (size_t)B * FMNIST_CLASSES * sizeof *logits);
    free(in);
    return rc;
}

static int popcount(unsigned x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* C(n, k), exact in a double for n <= SPLIT_MAX_NODES. */
static double binomial(int n, int k)
{
    double c = 1;
    for (int j = 0; j < k; j++)
        c = c * (n - j) / (j + 1);
    return c;
}

/* Every mask of N nodes with e bits set, in increasing order (Gosper's next
 * subset of the same size), into masks; returns C(N, e). */
static int masks_of_weight(int N, int e, unsigned *masks)
{
    int M = 0;
    for (unsigned m = (1u << e) - 1; m < (1u << N);) {
        masks[M++] = m;
        if (m == 0)
            break;
        unsigned low = m & -m, up = m + low;
        m = (((up ^ m) >> 2) / low) | up;
    }
    return M;
}

/* Every mask of N nodes with e bits set for e = 0..N-1 (e = N is no
 * prediction), or SPLIT_EVAL_MASKS random ones of weight e where there are
 * more (a partial Fisher-Yates over the nodes, stream (1, 0,
 * RNG_STRAGGLERS, 100 + e): the same masks every call). masks must hold
 * N * SPLIT_EVAL_MASKS; returns how many, counting each weight in per[e]. */
static int eval_masks(int N, unsigned *masks, double *per)
{
    int M = 0;
    for (int e = 0; e < N; e++) {
        double count = binomial(N, e);
        if (count <= SPLIT_EVAL_MASKS) {
            M += masks_of_weight(N, e, masks + M);
            per[e] = count;
            continue;
        }
        struct rng r;
        rng_seed(&r, 1, 0, RNG_STRAGGLERS, 100 + (uint64_t)e);
        for (int k = 0; k < SPLIT_EVAL_MASKS; k++) {
            int order[SPLIT_MAX_NODES];
            for (int i = 0; i < N; i++)
                order[i] = i;
            unsigned m = 0;
            for (int j = 0; j < e; j++) {
                int pick = j + (int)rng_below(&r, (uint64_t)(N - j));
                int t = order[j];
                order[j] = order[pick];
                order[pick] = t;
                m |= 1u << order[j];
            }
            masks[M++] = m;
        }
        per[e] = SPLIT_EVAL_MASKS;
    }
    return M;
}

int split_evaluate(struct split_nets *s, const struct fmnist *data, const int *idx, size_t n,
                   struct split_eval *out, struct error *err)
{
    enum { CHUNK = 500, C = FMNIST_CLASSES };
    int N = s->nodes, O = s->node_out;
    double hits[SPLIT_MAX_NODES] = {0}, avg_hits[SPLIT_MAX_NODES] = {0};
    double masks_of[SPLIT_MAX_NODES] = {0};
    unsigned masks[SPLIT_MAX_NODES * SPLIT_EVAL_MASKS];
    int M = eval_masks(N, masks, masks_of);
    int *order = malloc(CHUNK * sizeof *order), *labels = malloc(CHUNK * sizeof *labels);
    float *x = malloc((size_t)CHUNK * FMNIST_PIXELS * sizeof *x);
    float *z = malloc((size_t)N * CHUNK * O * sizeof *z);
    float *za = malloc((size_t)N * CHUNK * C * sizeof *za);
    float *logits = malloc((size_t)CHUNK * C * sizeof *logits);
    float *patches = malloc((size_t)CHUNK * s->patch_h * s->patch_w * sizeof *patches);
    int rc = STRAG_OK;
    if (!order || !labels || !x || !z || !za || !logits || !patches)
        rc = error_fail(err, "out of memory");
    for (size_t i0 = 0; !rc && i0 < n; i0 += CHUNK) {
        int B = (int)(n - i0 < CHUNK ? n - i0 : CHUNK);
        for (int b = 0; b < B; b++)
            order[b] = idx ? idx[i0 + b] : (int)(i0 + b);
        fmnist_gather(data, order, (size_t)B, x, labels);
        rc = split_nodes_forward(s, x, B, z, err);
        for (int i = 0; !rc && s->avg[0] && i < N; i++) {
            gather_patches(s, i, x, B, patches);
            const float *o;
            rc = model_forward(s->avg[i], patches, B, &o, err);
            if (!rc)
                memcpy(za + (size_t)i * B * C, o, (size_t)B * C * sizeof *za);
        }
        for (int k = 0; !rc && k < M; k++) {
            unsigned m = masks[k];
            int e = popcount(m);
            rc = split_decode(s, z, B, m, logits, err);
            for (int b = 0; !rc && b < B; b++) {
                hits[e] += model_argmax(logits + (size_t)b * C, C) == labels[b];
                if (!s->avg[0])
                    continue;
                float mean[C] = {0};
                for (int i = 0; i < N; i++)
                    if (!(m >> i & 1u))
                        for (int c = 0; c < C; c++)
                            mean[c] += za[((size_t)i * B + b) * C + c];
                avg_hits[e] += model_argmax(mean, C) == labels[b];
            }
        }
    }
    for (int e = 0; e < SPLIT_MAX_NODES; e++) {
        out->accuracy[e] = e < N ? hits[e] / (masks_of[e] * (double)n) : NAN;
        out->averaging_accuracy[e] =
            e < N && s->avg[0] ? avg_hits[e] / (masks_of[e] * (double)n) : NAN;
    }
    free(order);
    free(labels);
    free(x);
    free(z);
    free(za);
    free(logits);
    free(patches);
    return rc;
}

double split_train_masks(int nodes, int stragglers)
{
    double M = 0;
    for (int e = 0; e <= stragglers && e <= nodes; e++)
        M += binomial(nodes, e);
    return M;
}

static int mask_order(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* The training masks: every bitmask of N nodes with at most s bits set, in
 * increasing order (the rows' order within an image); masks holds
 * split_train_masks(N, s). */
static int exhaustive_masks(int N, int s, unsigned *masks)
{
    int M = 0;
    for (int e = 0; e <= s && e <= N; e++)
        M += masks_of_weight(N, e, masks + M);
    qsort(masks, (size_t)M, sizeof *masks, mask_order);
    return M;
}

/* Buffers of one training step. */
struct split_step {
    int B, M;            /* images, decoder rows per image */
    float *x;            /* B x 784 */
    int *labels;         /* B */
    int *row_labels;     /* B*M */
    unsigned *row_mask;  /* B*M: erased bits of each decoder row */
    float *patches;      /* N x B x h*w */
    float *z;            /* N x B x O */
    float *dec_in;       /* B*M x D */
    float *dec_din;      /* B*M x D */
    float *probs;        /* B*M x C */
    float *dlogits;      /* B*M x C */
    float *dz;           /* B x O */
};

static void step_free(struct split_step *t)
{
    free(t->x);
    free(t->labels);
    free(t->row_labels);
    free(t->row_mask);
    free(t->patches);
    free(t->z);
    free(t->dec_in);
    free(t->dec_din);
    free(t->probs);
    free(t->dlogits);
    free(t->dz);
}

static int step_alloc(struct split_step *t, const struct split_nets *s, int B, int M)
{
    size_t P = (size_t)s->patch_h * s->patch_w, D = (size_t)s->decoder->input_size;
    size_t rows = (size_t)B * M, N = (size_t)s->nodes, O = (size_t)s->node_out;
    *t = (struct split_step){
        .B = B, .M = M,
        .x = malloc((size_t)B * FMNIST_PIXELS * sizeof(float)),
        .labels = malloc((size_t)B * sizeof(int)),
        .row_labels = malloc(rows * sizeof(int)),
        .row_mask = malloc(rows * sizeof(unsigned)),
        .patches = malloc(N * B * P * sizeof(float)),
        .z = malloc(N * B * O * sizeof(float)),
        .dec_in = malloc(rows * D * sizeof(float)),
        .dec_din = malloc(rows * D * sizeof(float)),
        .probs = malloc(rows * FMNIST_CLASSES * sizeof(float)),
        .dlogits = malloc(rows * FMNIST_CLASSES * sizeof(float)),
        .dz = malloc((size_t)B * O * sizeof(float)),
    };
    return t->x && t->labels && t->row_labels && t->row_mask && t->patches && t->z &&
           t->dec_in && t->dec_din && t->probs && t->dlogits && t->dz;
}

/* One joint step on B images whose decoder rows (B*M) and masks are set;
 * returns the mean loss through *loss. Gradients are zeroed here. */
static int split_step_run(struct split_nets *s, struct split_step *t, int B, int M,
                          double *loss, struct error *err)
{
    int N = s->nodes, O = s->node_out, D = s->decoder->input_size, rows = B * M;
    size_t P = (size_t)s->patch_h * s->patch_w;
    int rc = STRAG_OK;
    for (int i = 0; !rc && i < N; i++) {
        float *pi = t->patches + (size_t)i * B * P;
        gather_patches(s, i, t->x, B, pi);
        const float *out;
        rc = model_forward(s->node[i], pi, B, &out, err);
        if (!rc)
            memcpy(t->z + (size_t)i * B * O, out, (size_t)B * O * sizeof *t->z);
    }
    for (int r = 0; !rc && r < rows; r++)
        decoder_row(s, t->z, B, r / M, t->row_mask[r], t->dec_in + (size_t)r * D);
    const float *logits;
    if (!rc)
        rc = model_forward(s->decoder, t->dec_in, rows, &logits, err);
    if (rc)
        return rc;
    *loss = learned_xent(logits, t->row_labels, rows, FMNIST_CLASSES, 1.0f / (float)rows,
                         t->probs, t->dlogits, NULL);
    model_zero_grad(s->decoder);
    rc = model_backward(s->decoder, t->dlogits, rows, t->dec_din, err);
    /* node i's output gradient: the sum over its rows where it arrived */
    for (int i = 0; !rc && i < N; i++) {
        memset(t->dz, 0, (size_t)B * O * sizeof *t->dz);
        for (int r = 0; r < rows; r++)
            if (!(t->row_mask[r] >> i & 1u)) {
                float *dz = t->dz + (size_t)(r / M) * O;
                const float *din = t->dec_din + (size_t)r * D + (size_t)i * O;
                for (int o = 0; o < O; o++)
                    dz[o] += din[o];
            }
        /* each node is its own model: its workspace still holds this
         * batch's activations */
        model_zero_grad(s->node[i]);
        rc = model_backward(s->node[i], t->dz, B, NULL, err);
    }
    return rc;
}

int split_loss_and_grad(struct split_nets *s, const float *x, const int *labels, int B,
                        const unsigned *masks, int M, double *loss, struct error *err)
{
    struct split_step t;
    int rc = step_alloc(&t, s, B, M) ? STRAG_OK : error_fail(err, "out of memory");
    if (!rc) {
        memcpy(t.x, x, (size_t)B * FMNIST_PIXELS * sizeof *t.x);
        for (int r = 0; r < B * M; r++) {
            t.row_labels[r] = labels[r / M];
            t.row_mask[r] = masks[r % M];
        }
        rc = split_step_run(s, &t, B, M, loss, err);
    }
    step_free(&t);
    return rc;
}

int split_train(const struct split_train_config *c, const struct fmnist *data,
                struct split_nets **out, learned_progress_fn progress, void *ctx,
                struct error *err)
{
    *out = NULL;
    struct split_nets *s = NULL;
    struct optim *opt[2 * SPLIT_MAX_NODES + 1] = {0};
    int *train = NULL, *val = NULL;
    size_t ntrain, nval;
    struct split_step t = {0};
    unsigned masks[SPLIT_TRAIN_MASKS];
    bool random_mode = c->erasure_prob > 0;
    if (!random_mode && split_train_masks(c->shape.nodes, c->stragglers) > SPLIT_TRAIN_MASKS)
        return error_at(err, NULL, 0, "%.0f masks per image (at most %d)",
                        split_train_masks(c->shape.nodes, c->stragglers), SPLIT_TRAIN_MASKS);
    int rc = split_nets_new(&c->shape, c->baseline, c->opt.seed, &s, err);
    if (rc)
        return rc;
    int N = s->nodes, B = c->opt.batch;
    int M = random_mode ? 1 : exhaustive_masks(N, c->stragglers, masks);
    int val_stragglers = random_mode ? 1 : (c->stragglers > 0 ? c->stragglers : 0);
    rc = learned_split(&c->opt, data, &train, &ntrain, &val, &nval, err);
    if (!rc && !step_alloc(&t, s, B, M))
        rc = error_fail(err, "out of memory");
    /* optimisers: nodes 0..N-1, decoder N, baseline nodes N+1..2N */
    for (int i = 0; !rc && i <= N; i++) {
        struct model *m = i < N ? s->node[i] : s->decoder;
        rc = optim_new(&opt[i], &c->opt.optim, m->nparams, err);
    }
    for (int i = 0; !rc && s->avg[0] && i < N; i++)
        rc = optim_new(&opt[N + 1 + i], &c->opt.optim, s->avg[i]->nparams, err);
    if (rc)
        goto done;
    learned_set_threads(c->opt.threads);
    struct rng erase;
    rng_seed(&erase, c->opt.seed, 0, RNG_STRAGGLERS, 0);
    long per_epoch = (long)((ntrain + (size_t)B - 1) / (size_t)B);
    long total = per_epoch * c->opt.epochs, step = 0;
    size_t P = (size_t)s->patch_h * s->patch_w;
    for (int epoch = 1; epoch <= c->opt.epochs; epoch++) {
        double t0 = now_seconds(), loss_sum = 0;
        learned_shuffle(c->opt.seed, epoch - 1, train, ntrain);
        for (size_t i0 = 0; i0 < ntrain; i0 += (size_t)B) {
            int nb = (int)(ntrain - i0 < (size_t)B ? ntrain - i0 : (size_t)B);
            fmnist_gather(data, train + i0, (size_t)nb, t.x, t.labels);
            for (int b = 0; b < nb; b++)
                for (int m = 0; m < M; m++) {
                    unsigned mask = 0;
                    if (random_mode)
                        for (int i = 0; i < N; i++)
                            mask |= (unsigned)(rng_uniform(&erase) < c->erasure_prob) << i;
                    else
                        mask = masks[m];
                    t.row_mask[b * M + m] = mask;
                    t.row_labels[b * M + m] = t.labels[b];
                }
            double loss;
            rc = split_step_run(s, &t, nb, M, &loss, err);
            if (rc)
                goto done;
            loss_sum += loss * nb;
            float lr = learned_lr(&c->opt, step++, total);
            for (int i = 0; i <= N; i++) {
                struct model *m = i < N ? s->node[i] : s->decoder;
                optim_set_lr(opt[i], lr);
                optim_step(opt[i], m->params, m->grads);
            }
            /* the averaging baseline: each patch classifier on its own */
            for (int i = 0; s->avg[0] && i < N; i++) {
                float l;
                model_zero_grad(s->avg[i]);
                rc = model_loss_and_grad(s->avg[i], t.patches + (size_t)i * nb * P, t.labels,
                                         nb, &l, NULL, err);
                if (rc)
                    goto done;
                optim_set_lr(opt[N + 1 + i], lr);
                optim_step(opt[N + 1 + i], s->avg[i]->params, s->avg[i]->grads);
            }
        }
        char name[48];
        snprintf(name, sizeof name, "accuracy_%d_straggler%s", val_stragglers,
                 val_stragglers == 1 ? "" : "s");
        struct learned_epoch rec = {
            .epoch = epoch, .epochs = c->opt.epochs, .loss = loss_sum / (double)ntrain,
            .val_accuracy = NAN, .val_name = name,
        };
        if (nval > 0) {
            struct split_eval ev;
            rc = split_evaluate(s, data, val, nval, &ev, err);
            if (rc)
                goto done;
            rec.val_accuracy = ev.accuracy[val_stragglers];
        }
        rec.seconds = now_seconds() - t0;
        if (progress)
            progress(&rec, ctx);
    }
    *out = s;
    s = NULL;
done:
    for (int i = 0; i < 2 * SPLIT_MAX_NODES + 1; i++)
        optim_free(opt[i]);
    step_free(&t);
    split_nets_free(s);
    free(train);
    free(val);
    return rc;
}

int split_train_command(const struct learned_train_env *env, struct error *err)
{
    const struct params *p = env->params;
    struct split_train_config c = {
        .shape = {.nodes = (int)learned_int_or(p, "scheme.patches", 4),
                  .node_model = learned_string_or(p, "scheme.node_model", SPLIT_DEFAULT_NODE),
                  .decoder_model =
                      learned_string_or(p, "scheme.decoder_model", SPLIT_DEFAULT_DECODER),
                  .mask_input =
                      params_has(p, "scheme.mask_input") && params_bool(p, "scheme.mask_input")},
        .stragglers = (int)learned_int_or(p, "scheme.train_stragglers", 1),
        .erasure_prob =
            params_has(p, "scheme.erasure_prob") ? params_real(p, "scheme.erasure_prob") : 0,
        .baseline = !params_has(p, "scheme.baseline") || params_bool(p, "scheme.baseline"),
        .opt = env->opt,
    };
    int rc = split_tile_params(p, c.shape.nodes, &c.shape.grid_rows, &c.shape.grid_cols, err);
    if (rc)
        return rc;
    if (c.stragglers >= c.shape.nodes)
        return error_at_key(err, p, "scheme.train_stragglers", "must be below scheme.nodes (%d)",
                            c.shape.nodes);
    if (c.erasure_prob == 0 && split_train_masks(c.shape.nodes, c.stragglers) > SPLIT_TRAIN_MASKS)
        return error_at_key(err, p, "scheme.train_stragglers",
                            "%d patches with up to %d erasures are %.0f masks per image (at "
                            "most %d): lower it, or set scheme.erasure_prob",
                            c.shape.nodes, c.stragglers,
                            split_train_masks(c.shape.nodes, c.stragglers), SPLIT_TRAIN_MASKS);
    struct split_nets *nets = NULL;
    rc = learned_located(
        env, split_train(&c, env->train, &nets, env->progress, env->progress_ctx, err), err);
    char part[32];
    for (int i = 0; !rc && i < nets->nodes; i++) {
        snprintf(part, sizeof part, "node%d", i);
        rc = env->save(env->ctx, nets->node[i], part, err);
    }
    if (!rc)
        rc = env->save(env->ctx, nets->decoder, "decoder", err);
    for (int i = 0; !rc && nets->avg[0] && i < nets->nodes; i++) {
        snprintf(part, sizeof part, "avg%d", i);
        rc = env->save(env->ctx, nets->avg[i], part, err);
    }
    struct split_eval ev;
    if (!rc)
        rc = split_evaluate(nets, env->test, NULL, env->test->n, &ev, err);
    for (int s = 0; !rc && env->log && s < nets->nodes; s++)
        fprintf(env->log, "test: stragglers=%d accuracy=%.4f averaging_accuracy=%.4f\n", s,
                ev.accuracy[s], ev.averaging_accuracy[s]);
    split_nets_free(nets);
    return rc;
}
