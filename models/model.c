/* model.c: models as layer stacks over one flat parameter vector.
 *
 * Owns building (from the name table or spec text), the parameter and
 * gradient vectors and their named tensors, initialisation, the workspaces,
 * and the forward/backward passes that chain the layer functions of
 * layers.h. It does not own the layers' arithmetic (layers_*.c), the update
 * rules (optim.c), data sets or weight files.
 *
 * Buffers: boundary j (0..L) is the activation between layer j-1 and layer
 * j; boundary 0 is the caller's input and boundary L the logits. Flatten is
 * a view (its output is its input) and ReLU/tanh run in place when that
 * loses nothing backward needs (their backward reads only their output).
 * "relu maxpool" runs as "maxpool relu" (same values, a quarter of the work).
 * An lstm layer transposes its (B,C,1,T) input to the (B,T,C) sequence of
 * layers_lstm.c in a buffer of its own (with its hidden states and cache),
 * and copies the last hidden state out. A dropout layer keeps its mask (the
 * factor of every value) in the same per-layer slot (seq) for backward;
 * outside model_loss_and_grad it copies its input through.
 * Workspaces grow to the largest batch seen and are then reused.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"
#include "models/model.h"

enum { MODEL_MAX_LAYERS = 64 };

struct model_layer {
    struct layer_spec spec;
    struct act_shape in, out;
    size_t in_size, out_size;  /* floats per example */
    struct conv2d_dims conv;   /* LAYER_CONV2D */
    size_t weight, bias;       /* offsets into params (dense, conv2d; lstm: weight_ih) */
    size_t weight_hh;          /* LAYER_LSTM: offset of weight_hh */
    bool in_place;             /* output buffer is the input buffer */
};

struct model_workspace {
    int capacity;       /* batch the forward buffers hold */
    int grad_capacity;  /* batch the backward buffers hold */
    long allocations;   /* times any buffer set was (re)allocated */
    int last_batch;     /* B of the last forward (0: none) */
    bool last_train;    /* the last forward applied dropout masks */
    const float **act;  /* [L+1] resolved activation pointers of the last forward */
    float **own;        /* [L+1] owned activation buffers (NULL: a view) */
    float *scratch;     /* conv scratch, shared by every conv layer */
    size_t scratch_size;
    float *probs;       /* (capacity, outputs) softmax */
    float **grad;       /* [L+1] gradient at each inner boundary */
    float **seq;        /* [L] lstm: sequence (B,T,C) | hidden (B,T,H) | cache;
                           dropout: its mask (B, out_size) */
    float **seq_grad;   /* [L] lstm: dhidden (B,T,H) | scratch | dsequence (B,T,C) */
};

static const struct {
    const char *name;
    const char *spec;
} builtin_models[] = {
    { "logreg", "784: dense10" },
    { "mlp", "784: dense200 relu dense100 relu dense10" },
    { "lenet5", "1x28x28: conv6k5p2 relu maxpool2 conv16k5 relu maxpool2 "
                "dense120 relu dense84 relu dense10" },
};
enum { BUILTIN_COUNT = sizeof builtin_models / sizeof builtin_models[0] };

static const char *const builtin_names[] = { "logreg", "mlp", "lenet5", NULL };

static const char *const layer_words[] = {
    [LAYER_DENSE] = "dense",     [LAYER_CONV2D] = "conv", [LAYER_MAXPOOL] = "maxpool",
    [LAYER_AVGPOOL] = "avgpool", [LAYER_RELU] = "relu",   [LAYER_TANH] = "tanh",
    [LAYER_SQUARE] = "square",   [LAYER_FLATTEN] = "flatten", [LAYER_LSTM] = "lstm",
    [LAYER_DROPOUT] = "dropout",
};
enum { LAYER_KINDS = sizeof layer_words / sizeof layer_words[0] };

const char *model_builtin_spec(const char *name)
{
    for (int i = 0; i < BUILTIN_COUNT; i++)
        if (strcmp(builtin_models[i].name, name) == 0)
            return builtin_models[i].spec;
    return NULL;
}

const char *const *model_builtin_names(void)
{
    return builtin_names;
}

/* ---- spec text ---- */

/* Reads a positive decimal int at *s, advancing it; -1 if there is none. */
static int spec_read_int(const char **s)
{
    if (!isdigit((unsigned char)**s))
        return -1;
    errno = 0;
    char *end;
    long v = strtol(*s, &end, 10);
    if (errno || v > 1000000)
        return -1;
    *s = end;
    return (int)v;
}

/* Parses one layer word ("conv6k5p2", "relu"); returns 0 or -1. */
static int spec_parse_layer(const char *word, struct layer_spec *l)
{
    *l = (struct layer_spec){ 0 };
    int kind = -1;
    size_t len = 0;
    // no layer word is a prefix of another, so at most one matches
    for (int k = 0; k < LAYER_KINDS && kind < 0; k++) {
        len = strlen(layer_words[k]);
        if (strncmp(word, layer_words[k], len) == 0)
            kind = k;
    }
    if (kind < 0)
        return -1;
    l->kind = (enum layer_kind)kind;
    const char *s = word + len;
    switch (l->kind) {
    case LAYER_DENSE:
    case LAYER_LSTM:
        if ((l->units = spec_read_int(&s)) < 0)
            return -1;
        break;
    case LAYER_CONV2D:
        if ((l->units = spec_read_int(&s)) < 0 || *s++ != 'k' || (l->kernel = spec_read_int(&s)) < 0)
            return -1;
        if (*s == 's' && (s++, (l->stride = spec_read_int(&s)) < 1))
            return -1;
        if (*s == 'p' && (s++, (l->pad = spec_read_int(&s)) < 0))
            return -1;
        break;
    case LAYER_MAXPOOL:
    case LAYER_AVGPOOL:
        if ((l->kernel = spec_read_int(&s)) < 0)
            return -1;
        if (*s == 's' && (s++, (l->stride = spec_read_int(&s)) < 1))
            return -1;
        break;
    case LAYER_DROPOUT: {
        if (!isdigit((unsigned char)*s))
            return -1;
        char *end;
        double rate = strtod(s, &end);
        if (!(rate >= 0.0 && rate < 1.0))
            return -1;
        l->rate = (float)rate;
        s = end;
        break;
    }
    default:
        break;
    }
    return *s == '\0' ? 0 : -1;
}

/* Parses "1x28x28" or "784" into *in; returns 0 or -1. */
static int spec_parse_input(const char *text, struct act_shape *in)
{
    const char *s = text;
    int dims[3], n = 0;
    for (;;) {
        if (n == 3 || (dims[n++] = spec_read_int(&s)) < 1)
            return -1;
        if (*s == '\0')
            break;
        if (*s++ != 'x')
            return -1;
    }
    if (n == 2)
        return -1;
    *in = n == 1 ? (struct act_shape){ dims[0], 1, 1 } : (struct act_shape){ dims[0], dims[1], dims[2] };
    return 0;
}

static int spec_parse(const char *spec, struct act_shape *in, struct layer_spec *layers,
                      int *nlayers, struct error *err)
{
    const char *colon = strchr(spec, ':');
    char word[64];
    size_t n = (size_t)(colon - spec);
    while (n > 0 && isspace((unsigned char)spec[n - 1]))
        n--;
    const char *start = spec;
    while (isspace((unsigned char)*start) && start < colon)
        start++, n--;
    if (n == 0 || n >= sizeof word)
        return error_at(err, NULL, 0, "model spec '%s': expected an input shape (784 or 1x28x28) before ':'", spec);
    memcpy(word, start, n);
    word[n] = '\0';
    if (spec_parse_input(word, in))
        return error_at(err, NULL, 0, "model spec '%s': bad input shape '%s' (expected N or CxHxW)", spec, word);
    *nlayers = 0;
    const char *s = colon + 1;
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '\0')
            break;
        size_t len = strcspn(s, " \t\r\n");
        if (len >= sizeof word)
            len = sizeof word - 1;
        memcpy(word, s, len);
        word[len] = '\0';
        s += strcspn(s, " \t\r\n");
        if (*nlayers == MODEL_MAX_LAYERS)
            return error_at(err, NULL, 0, "model spec '%s': more than %d layers", spec, MODEL_MAX_LAYERS);
        if (spec_parse_layer(word, &layers[*nlayers]))
            return error_at(err, NULL, 0,
                            "model spec '%s': bad layer '%s' (expected denseN, convNkK[sS][pP], "
                            "maxpoolK[sS], avgpoolK[sS], relu, tanh, square, flatten, lstmN "
                            "or dropoutP with P in [0, 1))",
                            spec, word);
        (*nlayers)++;
    }
    if (*nlayers == 0)
        return error_at(err, NULL, 0, "model spec '%s': no layers after ':'", spec);
    return 0;
}

/* Appends printf text to a growing heap string; returns 0 or -1 (no memory). */
static int text_append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char piece[64];
    int n = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    if (*len + (size_t)n + 1 > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 64) + (size_t)n;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, piece, (size_t)n + 1);
    *len += (size_t)n;
    return 0;
}

/* The canonical spec text of a layer stack (defaults left out). */
static char *spec_format(struct act_shape in, const struct model_layer *layers, int nlayers)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = in.h == 1 && in.w == 1 ? text_append(&buf, &len, &cap, "%d:", in.c)
                                    : text_append(&buf, &len, &cap, "%dx%dx%d:", in.c, in.h, in.w);
    for (int i = 0; i < nlayers && rc == 0; i++) {
        const struct layer_spec *l = &layers[i].spec;
        rc = text_append(&buf, &len, &cap, " %s", layer_words[l->kind]);
        if (rc == 0 && (l->kind == LAYER_DENSE || l->kind == LAYER_CONV2D || l->kind == LAYER_LSTM))
            rc = text_append(&buf, &len, &cap, "%d", l->units);
        if (rc == 0 && l->kind == LAYER_CONV2D) {
            rc = text_append(&buf, &len, &cap, "k%d", l->kernel);
            if (rc == 0 && l->stride != 1)
                rc = text_append(&buf, &len, &cap, "s%d", l->stride);
            if (rc == 0 && l->pad != 0)
                rc = text_append(&buf, &len, &cap, "p%d", l->pad);
        }
        if (rc == 0 && l->kind == LAYER_DROPOUT)
            rc = text_append(&buf, &len, &cap, "%g", (double)l->rate);
        if (rc == 0 && (l->kind == LAYER_MAXPOOL || l->kind == LAYER_AVGPOOL)) {
            rc = text_append(&buf, &len, &cap, "%d", l->kernel);
            if (rc == 0 && l->stride != l->kernel)
                rc = text_append(&buf, &len, &cap, "s%d", l->stride);
        }
    }
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- building ---- */

static size_t shape_size(struct act_shape s)
{
    return (size_t)s.c * s.h * s.w;
}

static void model_add_tensor(struct model *m, const char *kind, int index, const char *what,
                             int ndim, const int *dims, size_t offset)
{
    struct model_tensor *t = &m->tensors[m->ntensors++];
    snprintf(t->name, sizeof t->name, "%s%d.%s", kind, index, what);
    t->ndim = ndim;
    t->count = 1;
    for (int i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        t->count *= (size_t)dims[i];
    }
    t->offset = offset;
}

/* Fills shapes, offsets and FLOPs of every layer; returns 0 or an error. */
static int model_plan(struct model *m, struct error *err)
{
    struct act_shape cur = m->input;
    size_t offset = 0;
    double flops = 0.0;
    for (int i = 0; i < m->nlayers; i++) {
        struct model_layer *L = &m->layers[i];
        struct layer_spec *l = &L->spec;
        const char *word = layer_words[l->kind];
        L->in = cur;
        switch (l->kind) {
        case LAYER_DENSE: {
            if (l->units < 1)
                return error_at(err, NULL, 0, "model '%s': layer %d (%s): needs at least 1 unit", m->name, i + 1, word);
            size_t C = shape_size(cur);
            if (C > INT_MAX / (size_t)l->units)
                return error_at(err, NULL, 0, "model '%s': layer %d (%s): too large", m->name, i + 1, word);
            L->weight = offset;
            L->bias = offset + C * (size_t)l->units;
            offset = L->bias + (size_t)l->units;
            flops += 2.0 * (double)C * l->units;
            cur = (struct act_shape){ l->units, 1, 1 };
            break;
        }
        case LAYER_CONV2D: {
            if (l->stride == 0)
                l->stride = 1;
            if (conv2d_dims_make(&L->conv, cur.c, cur.h, cur.w, l->units, l->kernel, l->stride, l->pad))
                return error_at(err, NULL, 0,
                                "model '%s': layer %d (%s): %d@%dx%d kernel, stride %d, padding %d "
                                "does not fit a %dx%dx%d input",
                                m->name, i + 1, word, l->units, l->kernel, l->kernel, l->stride,
                                l->pad, cur.c, cur.h, cur.w);
            size_t wcount = (size_t)l->units * cur.c * l->kernel * l->kernel;
            L->weight = offset;
            L->bias = offset + wcount;
            offset = L->bias + (size_t)l->units;
            flops += 2.0 * (double)wcount * L->conv.OH * L->conv.OW;
            cur = (struct act_shape){ l->units, L->conv.OH, L->conv.OW };
            break;
        }
        case LAYER_MAXPOOL:
        case LAYER_AVGPOOL:
            if (l->stride == 0)
                l->stride = l->kernel;
            if (l->kernel < 1 || l->kernel > cur.h || l->kernel > cur.w)
                return error_at(err, NULL, 0, "model '%s': layer %d (%s): %dx%d window does not fit a %dx%d input",
                                m->name, i + 1, word, l->kernel, l->kernel, cur.h, cur.w);
            cur.h = pool_out_size(cur.h, l->kernel, l->stride);
            cur.w = pool_out_size(cur.w, l->kernel, l->stride);
            break;
        case LAYER_FLATTEN:
            cur = (struct act_shape){ (int)shape_size(cur), 1, 1 };
            break;
        case LAYER_LSTM: {
            if (l->units < 1)
                return error_at(err, NULL, 0, "model '%s': layer %d (%s): needs at least 1 unit", m->name, i + 1, word);
            if (cur.h != 1)
                return error_at(err, NULL, 0,
                                "model '%s': layer %d (%s): needs a Cx1xT input (features x 1 x steps), got %dx%dx%d",
                                m->name, i + 1, word, cur.c, cur.h, cur.w);
            size_t H = (size_t)l->units, C = (size_t)cur.c;
            if (4 * H * (C + H) > INT_MAX)
                return error_at(err, NULL, 0, "model '%s': layer %d (%s): too large", m->name, i + 1, word);
            L->weight = offset;
            L->weight_hh = offset + 4 * H * C;
            L->bias = L->weight_hh + 4 * H * H;
            offset = L->bias + 4 * H;
            flops += 2.0 * 4 * (double)H * (double)(C + H) * cur.w + 10.0 * (double)H * cur.w;
            cur = (struct act_shape){ l->units, 1, 1 };
            break;
        }
        case LAYER_DROPOUT:
            if (!(l->rate >= 0.0f && l->rate < 1.0f))
                return error_at(err, NULL, 0, "model '%s': layer %d (%s): rate %g is outside [0, 1)",
                                m->name, i + 1, word, (double)l->rate);
            break;
        default: /* element-wise */
            break;
        }
        L->out = cur;
        L->in_size = shape_size(L->in);
        L->out_size = shape_size(cur);
    }
    m->nparams = offset;
    m->flops = flops;
    m->outputs = (int)shape_size(cur);
    return 0;
}

/* Runs "relu maxpool" as "maxpool relu": relu(max(x)) == max(relu(x)) exactly
 * (both are exact float operations and relu is monotone), the gradients agree
 * (a window whose max is <= 0 gets none either way), and ReLU then touches a
 * quarter of the values. Returns whether anything moved. */
static bool model_reorder(struct model *m)
{
    bool moved = false;
    for (int i = 0; i + 1 < m->nlayers; i++) {
        struct model_layer *a = &m->layers[i], *b = &m->layers[i + 1];
        if (a->spec.kind == LAYER_RELU && b->spec.kind == LAYER_MAXPOOL) {
            struct layer_spec relu = a->spec;
            a->spec = b->spec;
            b->spec = relu;
            moved = true;
            i++;
        }
    }
    return moved;
}

/* Decides which layers run in place (see the file comment). */
static void model_plan_in_place(struct model *m)
{
    bool input_view = true; /* boundary i's buffer is the caller's input */
    for (int i = 0; i < m->nlayers; i++) {
        struct model_layer *L = &m->layers[i];
        enum layer_kind k = L->spec.kind;
        L->in_place = false;
        if (k == LAYER_FLATTEN) {
            L->in_place = true; /* a view: input_view carries over */
            continue;
        }
        if ((k == LAYER_RELU || k == LAYER_TANH) && !input_view) {
            // the producer of this buffer (skipping views) must not need its output backward
            int p = i - 1;
            while (p >= 0 && m->layers[p].spec.kind == LAYER_FLATTEN)
                p--;
            enum layer_kind pk = m->layers[p].spec.kind;
            L->in_place = pk != LAYER_RELU && pk != LAYER_TANH && pk != LAYER_MAXPOOL;
        }
        if (!L->in_place)
            input_view = false;
    }
}

int model_new_layers(struct model **out, const char *name, struct act_shape input,
                     const struct layer_spec *layers, int nlayers, struct error *err)
{
    *out = NULL;
    if (nlayers < 1 || nlayers > MODEL_MAX_LAYERS)
        return error_at(err, NULL, 0, "model '%s': needs 1 to %d layers, got %d", name ? name : "custom",
                        MODEL_MAX_LAYERS, nlayers);
    if (input.c < 1 || input.h < 1 || input.w < 1)
        return error_at(err, NULL, 0, "model '%s': bad input shape %dx%dx%d", name ? name : "custom",
                        input.c, input.h, input.w);
    struct model *m = calloc(1, sizeof *m);
    if (!m)
        return error_fail(err, "out of memory building a model");
    snprintf(m->name, sizeof m->name, "%s", name ? name : "custom");
    m->input = input;
    m->input_size = (int)shape_size(input);
    m->nlayers = nlayers;
    m->layers = calloc((size_t)nlayers, sizeof *m->layers);
    m->ws = calloc(1, sizeof *m->ws);
    if (!m->layers || !m->ws) {
        model_free(m);
        return error_fail(err, "out of memory building a model");
    }
    for (int i = 0; i < nlayers; i++) {
        if ((unsigned)layers[i].kind >= LAYER_KINDS) {
            int rc = error_at(err, NULL, 0, "model '%s': layer %d has an unknown kind %d", m->name, i + 1,
                              (int)layers[i].kind);
            model_free(m);
            return rc;
        }
        m->layers[i].spec = layers[i];
    }
    int rc = model_plan(m, err);
    if (rc) {
        model_free(m);
        return rc;
    }
    m->arch = spec_format(input, m->layers, nlayers); // before reordering
    if (model_reorder(m))
        model_plan(m, err); // cannot fail: same layers, already checked
    model_plan_in_place(m);
    m->params = calloc(m->nparams ? m->nparams : 1, sizeof(float));
    m->grads = calloc(m->nparams ? m->nparams : 1, sizeof(float));
    m->tensors = calloc(3 * (size_t)nlayers, sizeof *m->tensors);
    if (!m->arch || !m->params || !m->grads || !m->tensors) {
        model_free(m);
        return error_fail(err, "out of memory building a model");
    }
    int nconv = 0, ndense = 0, nlstm = 0;
    for (int i = 0; i < nlayers; i++) {
        const struct model_layer *L = &m->layers[i];
        const struct layer_spec *l = &L->spec;
        if (l->kind == LAYER_DENSE) {
            int wd[2] = { l->units, (int)L->in_size };
            ndense++;
            model_add_tensor(m, "dense", ndense, "weight", 2, wd, L->weight);
            model_add_tensor(m, "dense", ndense, "bias", 1, wd, L->bias);
        } else if (l->kind == LAYER_CONV2D) {
            int wd[4] = { l->units, L->in.c, l->kernel, l->kernel };
            nconv++;
            model_add_tensor(m, "conv", nconv, "weight", 4, wd, L->weight);
            model_add_tensor(m, "conv", nconv, "bias", 1, wd, L->bias);
        } else if (l->kind == LAYER_LSTM) {
            int wih[2] = { 4 * l->units, L->in.c }, whh[2] = { 4 * l->units, l->units };
            nlstm++;
            model_add_tensor(m, "lstm", nlstm, "weight_ih", 2, wih, L->weight);
            model_add_tensor(m, "lstm", nlstm, "weight_hh", 2, whh, L->weight_hh);
            model_add_tensor(m, "lstm", nlstm, "bias", 1, whh, L->bias);
        }
    }
    *out = m;
    return 0;
}

/* The layers of a table name or spec text; name is the table name or NULL. */
static int model_parse(const char *name_or_spec, const char **name, struct act_shape *in,
                       struct layer_spec *layers, int *n, struct error *err)
{
    const char *spec = model_builtin_spec(name_or_spec);
    *name = spec ? name_or_spec : NULL;
    if (!spec) {
        if (!strchr(name_or_spec, ':'))
            return error_at(err, NULL, 0, "unknown model '%s' (known: logreg, mlp, lenet5, or a spec like '784: dense10')",
                            name_or_spec);
        spec = name_or_spec;
    }
    return spec_parse(spec, in, layers, n, err);
}

int model_new(struct model **out, const char *name_or_spec, struct error *err)
{
    *out = NULL;
    const char *name;
    struct act_shape in = { 0, 0, 0 };
    struct layer_spec layers[MODEL_MAX_LAYERS];
    int n = 0;
    int rc = model_parse(name_or_spec, &name, &in, layers, &n, err);
    if (rc)
        return rc;
    return model_new_layers(out, name, in, layers, n, err);
}

int model_new_dropout(struct model **out, const char *name_or_spec, float rate,
                      struct error *err)
{
    *out = NULL;
    const char *name;
    struct act_shape in = { 0, 0, 0 };
    struct layer_spec layers[MODEL_MAX_LAYERS + 1];
    int n = 0, dropouts = 0, last_dense = -1;
    int rc = model_parse(name_or_spec, &name, &in, layers, &n, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        dropouts += layers[i].kind == LAYER_DROPOUT;
        if (layers[i].kind == LAYER_DENSE)
            last_dense = i;
    }
    if (dropouts == 0) {
        if (last_dense < 0)
            return error_at(err, NULL, 0, "model '%s': no dense layer to put dropout before",
                            name_or_spec);
        memmove(layers + last_dense + 1, layers + last_dense,
                (size_t)(n - last_dense) * sizeof *layers);
        layers[last_dense] = (struct layer_spec){ .kind = LAYER_DROPOUT };
        n++;
    }
    for (int i = 0; i < n; i++)
        if (layers[i].kind == LAYER_DROPOUT)
            layers[i].rate = rate;
    return model_new_layers(out, name, in, layers, n, err);
}

int model_set_dropout(struct model *m, float rate)
{
    int count = 0;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].spec.kind == LAYER_DROPOUT) {
            m->layers[i].spec.rate = rate;
            count++;
        }
    return count;
}

static void model_workspace_release(struct model_workspace *ws, int nlayers)
{
    if (!ws->act)
        return;
    for (int i = 0; i <= nlayers; i++) {
        free(ws->own[i]);
        free(ws->grad[i]);
    }
    for (int i = 0; i < nlayers && ws->seq && ws->seq_grad; i++) {
        free(ws->seq[i]);
        free(ws->seq_grad[i]);
    }
    free(ws->seq);
    free(ws->seq_grad);
    free(ws->act);
    free(ws->own);
    free(ws->grad);
    free(ws->scratch);
    free(ws->probs);
}

void model_free(struct model *m)
{
    if (!m)
        return;
    if (m->ws) {
        model_workspace_release(m->ws, m->nlayers);
        free(m->ws);
    }
    free(m->layers);
    free(m->arch);
    free(m->params);
    free(m->grads);
    free(m->tensors);
    free(m);
}

void model_init(struct model *m, struct rng *r)
{
    for (int i = 0; i < m->nlayers; i++) {
        const struct model_layer *L = &m->layers[i];
        if (L->spec.kind == LAYER_LSTM) {
            int H = L->spec.units;
            size_t count = 4 * (size_t)H * ((size_t)L->in.c + H); /* weight_ih, weight_hh */
            double bound = 1.0 / sqrt((double)H);
            float *w = m->params + L->weight;
            for (size_t j = 0; j < count; j++)
                w[j] = (float)((2.0 * rng_uniform(r) - 1.0) * bound);
            float *b = m->params + L->bias; /* gates i, f, g, o: remember by default */
            for (int k = 0; k < 4 * H; k++)
                b[k] = k >= H && k < 2 * H ? 1.0f : 0.0f;
            continue;
        }
        if (L->spec.kind != LAYER_DENSE && L->spec.kind != LAYER_CONV2D)
            continue;
        size_t fan_in = L->spec.kind == LAYER_DENSE ? L->in_size
                                                     : (size_t)L->in.c * L->spec.kernel * L->spec.kernel;
        size_t count = fan_in * (size_t)L->spec.units;
        double bound = sqrt(6.0 / (double)fan_in);
        float *w = m->params + L->weight;
        for (size_t j = 0; j < count; j++)
            w[j] = (float)((2.0 * rng_uniform(r) - 1.0) * bound);
        memset(m->params + L->bias, 0, sizeof(float) * (size_t)L->spec.units);
    }
}

void model_zero_grad(struct model *m)
{
    memset(m->grads, 0, sizeof(float) * m->nparams);
}

struct act_shape model_output_shape(const struct model *m)
{
    return m->layers[m->nlayers - 1].out;
}

int model_argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

int model_capacity(const struct model *m)
{
    return m->ws->capacity;
}

long model_workspace_allocations(const struct model *m)
{
    return m->ws->allocations;
}

/* ---- workspaces ---- */

/* Floats of an lstm layer's forward buffer: sequence (B,T,C), hidden
 * (B,T,H), cache; and of its backward buffer: dhidden (B,T,H), scratch,
 * dsequence (B,T,C). */
static size_t lstm_forward_floats(const struct model_layer *L, int B)
{
    int T = L->in.w, H = L->spec.units;
    return (size_t)B * T * ((size_t)L->in.c + H) + lstm_cache_size(B, T, H);
}

static size_t lstm_backward_floats(const struct model_layer *L, int B)
{
    int T = L->in.w, H = L->spec.units;
    return (size_t)B * T * ((size_t)H + L->in.c) + lstm_scratch_size(B, T, H);
}

/* (B,R,S) -> (B,S,R): between the (B,C,T) activation and the (B,T,C) sequence. */
static void batch_transpose(float *out, const float *inp, int B, int R, int S)
{
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * R * S;
        float *y = out + (size_t)b * R * S;
        for (int r = 0; r < R; r++)
            for (int s = 0; s < S; s++)
                y[(size_t)s * R + r] = x[(size_t)r * S + s];
    }
}

static void model_lstm_forward(struct model_workspace *ws, int i, const struct model_layer *L,
                               const float *params, float *y, const float *x, int B)
{
    int C = L->in.c, T = L->in.w, H = L->spec.units;
    float *seq = ws->seq[i], *hidden = seq + (size_t)B * T * C, *cache = hidden + (size_t)B * T * H;
    batch_transpose(seq, x, B, C, T);
    lstm_forward(hidden, cache, seq, params + L->weight, params + L->weight_hh, params + L->bias,
                 B, T, C, H);
    for (int b = 0; b < B; b++) /* the last step's hidden state */
        memcpy(y + (size_t)b * H, hidden + ((size_t)b * T + T - 1) * H, sizeof(float) * (size_t)H);
}

static void model_lstm_backward(struct model_workspace *ws, int i, const struct model_layer *L,
                                const float *params, float *grads, float *dx, const float *dy, int B)
{
    int C = L->in.c, T = L->in.w, H = L->spec.units;
    const float *seq = ws->seq[i], *hidden = seq + (size_t)B * T * C;
    const float *cache = hidden + (size_t)B * T * H;
    float *dhidden = ws->seq_grad[i], *scratch = dhidden + (size_t)B * T * H;
    float *dseq = scratch + lstm_scratch_size(B, T, H);
    memset(dhidden, 0, sizeof(float) * (size_t)B * T * H); /* only the last step is an output */
    for (int b = 0; b < B; b++)
        memcpy(dhidden + ((size_t)b * T + T - 1) * H, dy + (size_t)b * H, sizeof(float) * (size_t)H);
    lstm_backward(dx ? dseq : NULL, grads + L->weight, grads + L->weight_hh, grads + L->bias,
                  scratch, dhidden, seq, hidden, cache, params + L->weight, params + L->weight_hh,
                  B, T, C, H);
    if (dx)
        batch_transpose(dx, dseq, B, T, C);
}

/* free + malloc: old contents are never needed when a buffer grows. */
static int buffer_grow(void **p, size_t bytes)
{
    free(*p);
    *p = malloc(bytes ? bytes : 1);
    return *p ? 0 : -1;
}

static int workspace_tables(struct model *m)
{
    struct model_workspace *ws = m->ws;
    if (ws->act)
        return 0;
    size_t n = (size_t)m->nlayers + 1;
    ws->act = calloc(n, sizeof *ws->act);
    ws->own = calloc(n, sizeof *ws->own);
    ws->grad = calloc(n, sizeof *ws->grad);
    ws->seq = calloc(n, sizeof *ws->seq);
    ws->seq_grad = calloc(n, sizeof *ws->seq_grad);
    return ws->act && ws->own && ws->grad && ws->seq && ws->seq_grad ? 0 : -1;
}

static int workspace_grow_forward(struct model *m, int B, struct error *err)
{
    struct model_workspace *ws = m->ws;
    if (B <= ws->capacity)
        return 0;
    if (workspace_tables(m))
        return error_fail(err, "out of memory for model workspaces");
    int rc = 0;
    size_t scratch = 0;
    for (int i = 0; i < m->nlayers && rc == 0; i++) {
        const struct model_layer *L = &m->layers[i];
        if (!L->in_place)
            rc |= buffer_grow((void **)&ws->own[i + 1], sizeof(float) * L->out_size * (size_t)B);
        if (L->spec.kind == LAYER_LSTM)
            rc |= buffer_grow((void **)&ws->seq[i], sizeof(float) * lstm_forward_floats(L, B));
        if (L->spec.kind == LAYER_DROPOUT)
            rc |= buffer_grow((void **)&ws->seq[i], sizeof(float) * L->out_size * (size_t)B);
        if (L->spec.kind == LAYER_CONV2D && conv2d_col_size(&L->conv, B) > scratch)
            scratch = conv2d_col_size(&L->conv, B);
    }
    if (scratch > ws->scratch_size) {
        rc |= buffer_grow((void **)&ws->scratch, sizeof(float) * scratch);
        ws->scratch_size = rc ? 0 : scratch;
    }
    rc |= buffer_grow((void **)&ws->probs, sizeof(float) * (size_t)m->outputs * (size_t)B);
    if (rc) {
        ws->capacity = 0;
        return error_fail(err, "out of memory for model workspaces (batch %d)", B);
    }
    ws->capacity = B;
    ws->allocations++;
    return 0;
}

static int workspace_grow_backward(struct model *m, int B, struct error *err)
{
    struct model_workspace *ws = m->ws;
    if (B <= ws->grad_capacity)
        return 0;
    if (workspace_tables(m))
        return error_fail(err, "out of memory for model workspaces");
    int rc = 0;
    // inner boundaries 1..L-1 get gradient buffers; L is the caller's dlogits
    for (int i = 1; i < m->nlayers && rc == 0; i++)
        rc |= buffer_grow((void **)&ws->grad[i], sizeof(float) * m->layers[i].in_size * (size_t)B);
    for (int i = 0; i < m->nlayers && rc == 0; i++)
        if (m->layers[i].spec.kind == LAYER_LSTM)
            rc |= buffer_grow((void **)&ws->seq_grad[i], sizeof(float) * lstm_backward_floats(&m->layers[i], B));
    if (rc) {
        ws->grad_capacity = 0;
        return error_fail(err, "out of memory for model workspaces (batch %d)", B);
    }
    ws->grad_capacity = B;
    ws->allocations++;
    return 0;
}

int model_reserve(struct model *m, int max_batch, struct error *err)
{
    if (max_batch < 1)
        return error_fail(err, "model_reserve: batch must be >= 1, got %d", max_batch);
    int rc = workspace_grow_forward(m, max_batch, err);
    return rc ? rc : workspace_grow_backward(m, max_batch, err);
}

/* ---- passes ---- */

/* Inference only: a direct conv layer followed by a max pool and/or a ReLU
 * runs them in its own pass (conv2d_forward_fused: the same bits); returns
 * the last layer fused (i: none) and fills *ep. */
static int model_fuse_conv(const struct model *m, int i, struct conv2d_epilogue *ep)
{
    *ep = (struct conv2d_epilogue){ 0 };
    if (!conv2d_is_direct(&m->layers[i].conv))
        return i;
    int j = i + 1;
    if (j < m->nlayers && m->layers[j].spec.kind == LAYER_MAXPOOL) {
        ep->pool_k = m->layers[j].spec.kernel;
        ep->pool_s = m->layers[j].spec.stride;
        j++;
    }
    if (j < m->nlayers && m->layers[j].spec.kind == LAYER_RELU) {
        ep->relu = true;
        j++;
    }
    return j - 1;
}

enum forward_kind {
    FORWARD_KEEP,  /* keeps every activation for model_backward */
    FORWARD_TRAIN, /* the same, with dropout applied */
    FORWARD_INFER, /* fuses conv layers with what follows; no backward */
};

/* The forward pass (see enum forward_kind). */
static int model_forward_pass(struct model *m, const float *inp, int B, enum forward_kind kind,
                              const float **logits, struct error *err)
{
    const bool train = kind == FORWARD_TRAIN;
    if (B < 1)
        return error_fail(err, "model_forward: batch must be >= 1, got %d", B);
    int rc = workspace_grow_forward(m, B, err);
    if (rc)
        return rc;
    struct model_workspace *ws = m->ws;
    const float *params = m->params;
    ws->act[0] = inp;
    for (int i = 0; i < m->nlayers; i++) {
        const struct model_layer *L = &m->layers[i];
        const float *x = ws->act[i];
        // in place: the buffer is a workspace (never the caller's input), see model_plan_in_place
        float *y = L->in_place ? (float *)x : ws->own[i + 1];
        size_t n = L->out_size * (size_t)B;
        struct conv2d_epilogue ep;
        int last;
        if (kind == FORWARD_INFER && L->spec.kind == LAYER_CONV2D && (last = model_fuse_conv(m, i, &ep)) > i) {
            // the fused layers' output goes where the last of them would put it
            int owner = last;
            while (m->layers[owner].in_place)
                owner--;
            y = ws->own[owner + 1];
            conv2d_forward_fused(y, ws->scratch, x, params + L->weight, params + L->bias, &L->conv, B, &ep);
            for (; i < last; i++)
                ws->act[i + 1] = NULL; // not computed: no backward after an inference pass
            ws->act[i + 1] = y;
            continue;
        }
        switch (L->spec.kind) {
        case LAYER_DENSE:
            dense_forward(y, x, params + L->weight, params + L->bias, B, (int)L->in_size, L->spec.units);
            break;
        case LAYER_CONV2D:
            conv2d_forward(y, ws->scratch, x, params + L->weight, params + L->bias, &L->conv, B);
            break;
        case LAYER_MAXPOOL:
            maxpool_forward(y, x, B, L->in.c, L->in.h, L->in.w, L->spec.kernel, L->spec.stride);
            break;
        case LAYER_AVGPOOL:
            avgpool_forward(y, x, B, L->in.c, L->in.h, L->in.w, L->spec.kernel, L->spec.stride);
            break;
        case LAYER_RELU:
            relu_forward(y, x, n);
            break;
        case LAYER_TANH:
            tanh_forward(y, x, n);
            break;
        case LAYER_SQUARE:
            square_forward(y, x, n);
            break;
        case LAYER_FLATTEN:
            break;
        case LAYER_LSTM:
            model_lstm_forward(ws, i, L, params, y, x, B);
            break;
        case LAYER_DROPOUT:
            if (train)
                dropout_forward(y, ws->seq[i], x, n, L->spec.rate, &m->dropout_rng);
            else
                memcpy(y, x, sizeof(float) * n);
            break;
        }
        ws->act[i + 1] = y;
    }
    ws->last_batch = kind == FORWARD_INFER ? 0 : B;
    ws->last_train = train;
    *logits = ws->act[m->nlayers];
    return 0;
}

int model_forward(struct model *m, const float *inp, int B, const float **logits,
                  struct error *err)
{
    return model_forward_pass(m, inp, B, FORWARD_KEEP, logits, err);
}

int model_infer(struct model *m, const float *inp, int B, const float **logits, struct error *err)
{
    return model_forward_pass(m, inp, B, FORWARD_INFER, logits, err);
}

int model_forward_train(struct model *m, const float *inp, int B, const float **logits,
                        struct error *err)
{
    return model_forward_pass(m, inp, B, true, logits, err);
}

int model_backward(struct model *m, const float *dlogits, int B, float *dinp, struct error *err)
{
    struct model_workspace *ws = m->ws;
    if (B < 1 || B != ws->last_batch)
        return error_fail(err, "model_backward: batch %d does not match the last forward (%d%s)", B,
                          ws->last_batch, ws->last_batch ? "" : ": none, or an inference pass");
    int rc = workspace_grow_backward(m, B, err);
    if (rc)
        return rc;
    const float *params = m->params;
    float *grads = m->grads;
    for (int i = m->nlayers - 1; i >= 0; i--) {
        const struct model_layer *L = &m->layers[i];
        const float *dy = i == m->nlayers - 1 ? dlogits : ws->grad[i + 1];
        float *dx = i == 0 ? dinp : ws->grad[i];
        const float *x = ws->act[i], *y = ws->act[i + 1];
        size_t n = L->out_size * (size_t)B;
        switch (L->spec.kind) {
        case LAYER_DENSE:
            dense_backward(dx, grads + L->weight, grads + L->bias, dy, x, params + L->weight, B,
                           (int)L->in_size, L->spec.units);
            break;
        case LAYER_CONV2D:
            conv2d_backward(dx, grads + L->weight, grads + L->bias, dy, x, params + L->weight,
                            ws->scratch, &L->conv, B);
            break;
        case LAYER_MAXPOOL:
            if (dx)
                maxpool_backward(dx, dy, x, y, B, L->in.c, L->in.h, L->in.w, L->spec.kernel,
                                 L->spec.stride);
            break;
        case LAYER_AVGPOOL:
            if (dx)
                avgpool_backward(dx, dy, B, L->in.c, L->in.h, L->in.w, L->spec.kernel, L->spec.stride);
            break;
        case LAYER_RELU:
            if (dx)
                relu_backward(dx, dy, y, n);
            break;
        case LAYER_TANH:
            if (dx)
                tanh_backward(dx, dy, y, n);
            break;
        case LAYER_SQUARE:
            if (dx)
                square_backward(dx, dy, x, n);
            break;
        case LAYER_FLATTEN:
            if (dx)
                memcpy(dx, dy, sizeof(float) * n);
            break;
        case LAYER_LSTM:
            model_lstm_backward(ws, i, L, params, grads, dx, dy, B);
            break;
        case LAYER_DROPOUT:
            if (dx && ws->last_train)
                dropout_backward(dx, dy, ws->seq[i], n);
            else if (dx)
                memcpy(dx, dy, sizeof(float) * n);
            break;
        }
    }
    return 0;
}

static int model_check_labels(const struct model *m, const int *labels, int B, struct error *err)
{
    for (int b = 0; b < B; b++)
        if (labels[b] < 0 || labels[b] >= m->outputs)
            return error_at(err, NULL, 0, "label %d of example %d is outside [0, %d)", labels[b], b,
                            m->outputs);
    return 0;
}

static int model_count_correct(const struct model *m, const float *logits, const int *labels, int B)
{
    int correct = 0;
    for (int b = 0; b < B; b++)
        correct += model_argmax(logits + (size_t)b * m->outputs, m->outputs) == labels[b];
    return correct;
}

int model_loss_and_grad(struct model *m, const float *inp, const int *labels, int B, float *loss,
                        int *correct, struct error *err)
{
    const float *logits;
    int rc = model_check_labels(m, labels, B, err);
    if (rc || (rc = model_forward_pass(m, inp, B, FORWARD_TRAIN, &logits, err)))
        return rc;
    struct model_workspace *ws = m->ws;
    *loss = crossentropy_forward(NULL, ws->probs, logits, labels, B, m->outputs);
    if (correct)
        *correct = model_count_correct(m, logits, labels, B);
    // dlogits reuse the probs buffer: backward needs only the gradient
    crossentropy_backward(ws->probs, ws->probs, labels, B, m->outputs, 1.0f / (float)B);
    return model_backward(m, ws->probs, B, NULL, err);
}

int model_evaluate(struct model *m, const float *inp, const int *labels, int B, double *loss_sum,
                   int *correct, struct error *err)
{
    const float *logits;
    int rc = model_check_labels(m, labels, B, err);
    if (rc || (rc = model_infer(m, inp, B, &logits, err)))
        return rc;
    float mean = crossentropy_forward(NULL, m->ws->probs, logits, labels, B, m->outputs);
    if (loss_sum)
        *loss_sum = (double)mean * B;
    if (correct)
        *correct = model_count_correct(m, logits, labels, B);
    return 0;
}
