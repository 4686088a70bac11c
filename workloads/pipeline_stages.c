/* pipeline_stages.c: a model's layers cut into stages, the stage models,
 * and an iteration's forward and backward passes through them (see
 * pipeline_stages.h). The time the stages take is pipeline_timing.c's. */
#include "workloads/pipeline_stages.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"

static void shape_text(struct act_shape s, char *out, size_t len)
{
    if (s.h == 1 && s.w == 1)
        snprintf(out, len, "%d", s.c);
    else
        snprintf(out, len, "%dx%dx%d", s.c, s.h, s.w);
}

/* Splits the layer words of a spec (after its ':') into words[], at most
 * `max`; returns how many, or -1 when a word is too long or there are too many. */
static int spec_words(const char *text, char words[][64], int max)
{
    int n = 0;
    for (const char *s = text;;) {
        s += strspn(s, " \t\r\n");
        if (!*s)
            return n;
        size_t len = strcspn(s, " \t\r\n");
        if (n == max || len >= 64)
            return -1;
        memcpy(words[n], s, len);
        words[n++][len] = '\0';
        s += len;
    }
}

/* A model of `words` on input shape `in`, from spec text. */
static int words_model(struct act_shape in, char words[][64], int count, struct model **out,
                       struct error *err)
{
    char spec[PIPELINE_LAYERS_MAX * 65 + 64];
    shape_text(in, spec, sizeof spec);
    size_t used = strlen(spec);
    spec[used++] = ':';
    for (int i = 0; i < count; i++)
        used += (size_t)snprintf(spec + used, sizeof spec - used, " %s", words[i]);
    spec[used] = '\0';
    return model_new(out, spec, err);
}

int pipeline_layers_read(const struct model *full, struct pipeline_layers *l, struct error *err)
{
    memset(l, 0, sizeof *l);
    const char *colon = strchr(full->arch, ':');
    snprintf(l->input, sizeof l->input, "%.*s", (int)(colon - full->arch), full->arch);
    l->count = spec_words(colon + 1, l->words, PIPELINE_LAYERS_MAX);
    if (l->count < 0)
        return error_fail(err, "model '%s': too many layers for a pipeline", full->arch);
    struct act_shape in = full->input;
    for (int i = 0; i < l->count; i++) {
        struct model *one;
        int status = words_model(in, &l->words[i], 1, &one, err);
        if (status)
            return status;
        /* element-wise and pooling layers: one FLOP per input element;
         * dropout none, so that a dropout layer at rate 0 (the tuner's
         * starting point) leaves the split and every stage time as without it */
        bool dropout = strncmp(l->words[i], "dropout", 7) == 0;
        l->flops[i] = one->flops > 0 ? one->flops : dropout ? 0.0 : (double)one->input_size;
        l->params[i] = one->nparams;
        l->total_flops += l->flops[i];
        in = model_output_shape(one);
        model_free(one);
    }
    return 0;
}

int pipeline_split_parse(const struct pipeline_layers *l, const char *text, int max_stages,
                         int *first, int *P, struct error *err)
{
    char words[PIPELINE_LAYERS_MAX][64];
    char canon[PIPELINE_LAYERS_MAX][64];
    int at = 0, s = 0;
    struct model *full_in;
    /* the stages' input shapes come from the stages before them */
    char spec[160];
    snprintf(spec, sizeof spec, "%s: %s", l->input, l->words[0]);
    int status = model_new(&full_in, spec, err);
    if (status)
        return status;
    struct act_shape in = full_in->input;
    model_free(full_in);
    for (const char *p = text;; s++) {
        size_t len = strcspn(p, "|");
        char stage[PIPELINE_LAYERS_MAX * 65];
        if (len >= sizeof stage)
            return error_at(err, NULL, 0, "stage %d is too long", s + 1);
        memcpy(stage, p, len);
        stage[len] = '\0';
        int n = spec_words(stage, words, PIPELINE_LAYERS_MAX);
        if (n < 0)
            return error_at(err, NULL, 0, "stage %d has too many layers or too long a word", s + 1);
        if (n == 0)
            return error_at(err, NULL, 0, "stage %d is empty", s + 1);
        if (s == max_stages)
            return error_at(err, NULL, 0, "more than %d stages", max_stages);
        struct model *m;
        if ((status = words_model(in, words, n, &m, err))) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return error_at(err, NULL, 0, "stage %d: %s", s + 1, why);
        }
        int c = spec_words(strchr(m->arch, ':') + 1, canon, PIPELINE_LAYERS_MAX);
        in = model_output_shape(m);
        model_free(m);
        for (int i = 0; i < c; i++, at++)
            if (at >= l->count || strcmp(canon[i], l->words[at]) != 0)
                return error_at(err, NULL, 0,
                                  "stage %d's layer '%s' is not the model's layer %d ('%s'): "
                                  "the stages must cover the model's layers once, in order",
                                  s + 1, canon[i], at + 1,
                                  at < l->count ? l->words[at] : "none, the model ends");
        first[s + 1] = at;
        first[0] = 0;
        p += len;
        if (!*p++)
            break;
    }
    if (at != l->count)
        return error_at(err, NULL, 0, "the stages cover %d of the model's %d layers", at, l->count);
    *P = s + 1;
    return 0;
}

void pipeline_split_balanced(const struct pipeline_layers *l, int P, const double *slowness,
                             int *first)
{
    /* best[k][i]: the first i layers in k stages, (largest, sum of squares) */
    int L = l->count;
    double best[PIPELINE_LAYERS_MAX + 1][PIPELINE_LAYERS_MAX + 1];
    double squares[PIPELINE_LAYERS_MAX + 1][PIPELINE_LAYERS_MAX + 1];
    int cut[PIPELINE_LAYERS_MAX + 1][PIPELINE_LAYERS_MAX + 1];
    double prefix[PIPELINE_LAYERS_MAX + 1] = {0};
    for (int i = 0; i < L; i++)
        prefix[i + 1] = prefix[i] + l->flops[i];
    for (int k = 0; k <= P; k++)
        for (int i = 0; i <= L; i++)
            best[k][i] = INFINITY, squares[k][i] = INFINITY, cut[k][i] = 0;
    best[0][0] = 0.0;
    squares[0][0] = 0.0;
    for (int k = 1; k <= P; k++) {
        double slow = slowness ? slowness[k - 1] : 1.0;
        for (int i = k; i <= L - (P - k); i++)
            for (int j = k - 1; j < i; j++) {
                if (!isfinite(best[k - 1][j]))
                    continue;
                double t = slow * (prefix[i] - prefix[j]);
                double worst = fmax(best[k - 1][j], t), sq = squares[k - 1][j] + t * t;
                if (worst < best[k][i] || (worst == best[k][i] && sq < squares[k][i])) {
                    best[k][i] = worst;
                    squares[k][i] = sq;
                    cut[k][i] = j;
                }
            }
    }
    first[P] = L;
    for (int k = P, i = L; k > 0; k--)
        first[k - 1] = i = cut[k][i];
}

void pipeline_stages_free(struct pipeline_stages *s)
{
    for (int i = 0; i < s->count; i++)
        model_free(s->models[i]);
    free(s->probs);
    free(s->dlogits);
    free(s->grad_in);
    free(s->grad_out);
    memset(s, 0, sizeof *s);
}

int pipeline_stages_build(struct pipeline_stages *s, const struct pipeline_layers *l,
                          const struct model *full, const int *first, int P, int max_batch,
                          struct error *err)
{
    memset(s, 0, sizeof *s);
    struct act_shape in = full->input;
    int widest = 0;
    for (int k = 0; k < P; k++) {
        s->first[k] = first[k];
        char words[PIPELINE_LAYERS_MAX][64];
        int n = first[k + 1] - first[k];
        memcpy(words, l->words[first[k]], (size_t)n * sizeof words[0]);
        int status = words_model(in, words, n, &s->models[k], err);
        if (status)
            return status;
        s->count = k + 1;
        struct model *m = s->models[k];
        s->input_floats[k] = m->input_size;
        widest = m->input_size > widest ? m->input_size : widest;
        s->offset[k + 1] = s->offset[k] + m->nparams;
        s->flops[k] = 0.0;
        for (int i = first[k]; i < first[k + 1]; i++)
            s->flops[k] += l->flops[i];
        if ((status = model_reserve(m, max_batch, err)))
            return status;
        in = model_output_shape(m);
    }
    s->first[P] = first[P];
    if (s->offset[P] != full->nparams)
        return error_fail(err, "pipeline stages hold %zu parameters, the model %zu", s->offset[P],
                          full->nparams);
    s->max_batch = max_batch;
    s->classes = full->outputs;
    size_t logits = (size_t)max_batch * (size_t)s->classes;
    s->probs = malloc(logits * sizeof *s->probs);
    s->dlogits = malloc(logits * sizeof *s->dlogits);
    s->grad_in = malloc((size_t)max_batch * (size_t)widest * sizeof *s->grad_in);
    s->grad_out = malloc((size_t)max_batch * (size_t)widest * sizeof *s->grad_out);
    if (!s->probs || !s->dlogits || !s->grad_in || !s->grad_out)
        return error_fail(err, "out of memory");
    pipeline_stages_load(s, full->params);
    return 0;
}

void pipeline_stages_load(struct pipeline_stages *s, const float *params)
{
    for (int k = 0; k < s->count; k++)
        memcpy(s->models[k]->params, params + s->offset[k],
               s->models[k]->nparams * sizeof *params);
}

void pipeline_stages_set_dropout(struct pipeline_stages *s, float rate)
{
    for (int k = 0; k < s->count; k++)
        model_set_dropout(s->models[k], rate);
}

int pipeline_stages_gradient(struct pipeline_stages *s, const float *x, const int *y, int B,
                             int M, struct rng *dropout_rng, float *full_grads, double *loss,
                             struct error *err)
{
    int P = s->count, V = s->classes;
    for (int k = 0; k < P; k++)
        model_zero_grad(s->models[k]);
    *loss = 0.0;
    for (int m = 0; m < M; m++) {
        int start = pipeline_micro_start(B, M, m), b = pipeline_micro_size(B, M, m);
        if (b == 0)
            continue;
        const float *act = x + (size_t)start * (size_t)s->input_floats[0];
        for (int k = 0; k < P; k++) {
            struct model *stage = s->models[k];
            if (dropout_rng)
                stage->dropout_rng = *dropout_rng;
            int status = model_forward_train(stage, act, b, &act, err);
            if (dropout_rng)
                *dropout_rng = stage->dropout_rng;
            if (status)
                return status;
        }
        /* the mean loss of the micro-batch, weighted b/B: the batch's mean */
        float l = crossentropy_forward(NULL, s->probs, act, y + start, b, V);
        *loss += (double)l * b / B;
        crossentropy_backward(s->dlogits, s->probs, y + start, b, V, 1.0f / (float)B);
        /* stage k writes its input gradient into one buffer while reading
         * stage k+1's from the other */
        const float *dout = s->dlogits;
        float *buffers[2] = {s->grad_in, s->grad_out};
        for (int k = P; k-- > 0;) {
            float *dinp = k > 0 ? buffers[k & 1] : NULL;
            int status = model_backward(s->models[k], dout, b, dinp, err);
            if (status)
                return status;
            dout = dinp;
        }
    }
    for (int k = 0; k < P; k++)
        memcpy(full_grads + s->offset[k], s->models[k]->grads,
               s->models[k]->nparams * sizeof *full_grads);
    return 0;
}
