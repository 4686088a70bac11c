/* split.c: the `split` scheme (Krishna and Natarajan, "Distributed
 * Inference With Straggler Mitigation", 2019) serving side. A job is one
 * query; its image is cut into N = scheme.patches patches, tiled as
 * scheme.tiling says (split_model.h),
 * worker i runs node network i on patch i (a task of cost 1/N), the job is
 * done at N - scheme.stragglers results, and the master combines what
 * arrived: `learned` (the trained decoder, stragglers' outputs zeroed) or
 * `average` (the baseline: mean logits of independently trained per-patch
 * classifiers). The full-image baseline that waits for everything is the
 * `uncoded` scheme with the base model (sweep scheme.kind = split, uncoded).
 * Weights: <scheme.learned_weights>.{node<i>,decoder,avg<i>}.bin
 * (`stragsim train` with train.target = split).
 */
#include <stdlib.h>
#include <string.h>

#include "schemes/common/fanout.h"
#include "schemes/scheme.h"
#include "schemes/split_model.h"

struct split {
    struct fanout fan; /* first member: the fanout ops take the scheme as self */
    const struct params *params;
    struct split_shape shape;
    bool average;      /* combine by averaging the baseline classifiers */
    struct split_nets *nets;
    float *patches;    /* infer_forward scratch: jobs x h*w */
    int cap;
};

static const struct config_key split_keys[] = {
    {"scheme.patches", KEY_INT, "4", 2, SPLIT_MAX_NODES, 0, NULL,
     "split: image patches, one per worker, tiling the 28x28 image (scheme.tiling)"},
    {"scheme.tiling", KEY_ENUM, "auto", 0, 0, 0, split_tilings,
     "split: the patches' grid: N x 1 strips (rows), 1 x N (cols), grid_rows x N/grid_rows "
     "(grid), or the squarest with rows >= columns (auto: 2 halves, 4 quadrants, 7 strips)"},
    {"scheme.grid_rows", KEY_INT, NULL, 1, 28, 0, NULL,
     "split, tiling = grid: rows of the patch grid (columns: scheme.patches / grid_rows)"},
    {"scheme.node_model", KEY_STRING, SPLIT_DEFAULT_NODE, 0, 0, 0, NULL,
     "split: node network spec; without 'IN:' the patch shape is prepended"},
    {"scheme.decoder_model", KEY_STRING, SPLIT_DEFAULT_DECODER, 0, 0, 0, NULL,
     "split, learned-lagrange: master decoder network spec (input size prepended without ':')"},
    {"scheme.mask_input", KEY_BOOL, "false", 0, 0, 0, NULL,
     "split: the decoder also reads the arrival mask"},
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.combine", KEY_ENUM, "learned", 0, 0, 0, "learned|average",
     "split: the trained decoder, or the averaging baseline"},
    {"scheme.learned_weights", KEY_PATH, NULL, 0, 0, 0, NULL,
     "stem of a learned code's weights files: <stem>.<part>.bin per network"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis split_search[] = {
    {"scheme.patches", "2..4"},
    {NULL, NULL},
};

static void split_free(void *self)
{
    struct split *s = self;
    if (!s)
        return;
    split_nets_free(s->nets);
    free(s->patches);
    free(s);
}

static int split_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    struct split *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    *self = s;
    s->params = p;
    s->shape = (struct split_shape){
        .nodes = (int)params_int(p, "scheme.patches"),
        .node_model = params_string(p, "scheme.node_model"),
        .decoder_model = params_string(p, "scheme.decoder_model"),
        .mask_input = params_bool(p, "scheme.mask_input"),
    };
    s->average = strcmp(params_string(p, "scheme.combine"), "average") == 0;
    int rc = split_tile_params(p, s->shape.nodes, &s->shape.grid_rows, &s->shape.grid_cols, err);
    if (rc)
        return rc;
    if (env->workers != s->shape.nodes)
        return error_at_key(err, p, "cluster.workers",
                            "split needs one worker per patch (%d), got %d", s->shape.nodes,
                            env->workers);
    int S = (int)params_int(p, "scheme.stragglers");
    if (S >= s->shape.nodes)
        return error_at_key(err, p, "scheme.stragglers", "must be below scheme.patches (%d)",
                            s->shape.nodes);
    s->fan = (struct fanout){.workers = s->shape.nodes, .need = s->shape.nodes - S,
                             .cost = scheme_task_cost(p, 1.0 / s->shape.nodes)};
    return STRAG_OK;
}

static int split_infer_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    struct split *s = self;
    const struct params *p = s->params;
    if (inf->queries != 1)
        return error_at_key(err, p, "workload.queries",
                            "split answers one query per job: must be 1, got %d", inf->queries);
    if (inf->input_size != FMNIST_PIXELS)
        return error_at_key(err, p, "workload.model",
                            "split cuts 28x28 images; the model takes %d inputs", inf->input_size);
    char stem[4096];
    if (!params_path(p, "scheme.learned_weights", stem, sizeof stem))
        return error_at_key(err, p, "scheme.learned_weights",
                            "missing: the stem of the split networks' weights (train.target = "
                            "split)");
    struct error e;
    int rc = split_nets_new(&s->shape, s->average, 1, &s->nets, &e);
    if (rc)
        return error_at_key(err, p, "scheme.node_model", "%s", e.msg);
    if ((rc = split_nets_load(s->nets, stem, err)))
        return rc;
    if (s->nets->node_out != inf->outputs)
        return error_at_key(err, p, "scheme.node_model",
                            "nodes output %d floats; the workload's model outputs %d",
                            s->nets->node_out, inf->outputs);
    inf->coded = s->shape.nodes;
    return STRAG_OK;
}

/* Row i of Xc: patch i in its first h*w floats, zeros after. */
static void split_infer_encode(const void *self, const float *X, int d, float *Xc)
{
    const struct split *s = self;
    memset(Xc, 0, (size_t)s->shape.nodes * d * sizeof *Xc);
    for (int i = 0; i < s->shape.nodes; i++)
        split_patch(s->nets, i, X, Xc + (size_t)i * d);
}

/* Node i (or baseline classifier i) on row i of every job. */
static int split_infer_forward(void *self, const float *Xc, int jobs, float *Yc,
                               struct error *err)
{
    struct split *s = self;
    int N = s->shape.nodes, P = s->nets->patch_h * s->nets->patch_w, O = s->nets->node_out;
    if (jobs > s->cap) {
        free(s->patches);
        s->patches = malloc((size_t)jobs * P * sizeof *s->patches);
        s->cap = s->patches ? jobs : 0;
        if (!s->patches)
            return error_fail(err, "out of memory");
    }
    for (int i = 0; i < N; i++) {
        for (int b = 0; b < jobs; b++)
            memcpy(s->patches + (size_t)b * P, Xc + ((size_t)b * N + i) * FMNIST_PIXELS,
                   (size_t)P * sizeof *s->patches);
        const float *out;
        struct model *net = s->average ? s->nets->avg[i] : s->nets->node[i];
        int rc = model_forward(net, s->patches, jobs, &out, err);
        if (rc)
            return rc;
        for (int b = 0; b < jobs; b++)
            memcpy(Yc + ((size_t)b * N + i) * O, out + (size_t)b * O, (size_t)O * sizeof *Yc);
    }
    return STRAG_OK;
}

static int split_infer_decode(void *self, const int *returned, int nf, const float *Yc, int m,
                              float *Y, struct error *err)
{
    struct split *s = self;
    unsigned erased = (1u << s->shape.nodes) - 1;
    for (int i = 0; i < nf; i++)
        erased &= ~(1u << returned[i]);
    if (!s->average) /* Yc is N x 1 x O: node-major with one image */
        return split_decode(s->nets, Yc, 1, erased, Y, err);
    memset(Y, 0, (size_t)m * sizeof *Y);
    for (int i = 0; i < nf; i++)
        for (int c = 0; c < m; c++)
            Y[c] += Yc[(size_t)returned[i] * m + c] / (float)nf;
    return STRAG_OK;
}

const struct scheme_ops scheme_split = {
    .name = "split",
    .summary = "image split over N nodes, a learned decoder over the arrived node outputs",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = split_keys,
    .search = split_search,
    .create = split_create,
    .job_state_size = fanout_job_state_size,
    .job_start = fanout_job_start,
    .on_result = fanout_on_result,
    .free = split_free,
    .infer_prepare = split_infer_prepare,
    .infer_encode = split_infer_encode,
    .infer_forward = split_infer_forward,
    .infer_decode = split_infer_decode,
    .train = split_train_command,
};
