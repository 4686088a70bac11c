/* parm_model.c: ParM's encoders, subtraction decoder, parity-model training
 * and degraded-mode evaluation (parm_model.h), and the trainer `stragsim
 * train` runs from a config's keys. No serving. */
#include "schemes/parm_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"
#include "models/weights.h"
#include "base/clock.h"

static const char *const encoder_names[] = {[PARM_ADD] = "add", [PARM_CONCAT] = "concat"};

int parm_encoder_parse(const char *name, enum parm_encoder *out)
{
    for (int e = PARM_ADD; e <= PARM_CONCAT; e++)
        if (name && strcmp(name, encoder_names[e]) == 0) {
            *out = (enum parm_encoder)e;
            return 0;
        }
    return -1;
}

const char *parm_encoder_name(enum parm_encoder e) { return encoder_names[e]; }

int parm_check(enum parm_encoder e, int k, struct error *err)
{
    if (e == PARM_CONCAT && k != 2 && k != 4)
        return error_at(err, NULL, 0, "encoder concat needs k = 2 or 4, got %d", k);
    if (k < 2 || k > PARM_MAX_K)
        return error_at(err, NULL, 0, "encoder add needs k in 2..%d, got %d", PARM_MAX_K, k);
    return STRAG_OK;
}

/* Source coordinate of output pixel o under half-pixel centres, split into
 * the two taps and the weight of the second. */
static void resize_taps(int o, int in, int out, int *i0, int *i1, float *frac)
{
    double src = ((double)o + 0.5) * (double)in / (double)out - 0.5;
    if (src < 0)
        src = 0;
    int lo = (int)floor(src);
    if (lo > in - 1)
        lo = in - 1;
    *i0 = lo;
    *i1 = lo + 1 < in ? lo + 1 : in - 1;
    *frac = (float)(src - lo);
}

void parm_resize(const float *img, int h, int w, float *out, int oh, int ow)
{
    for (int y = 0; y < oh; y++) {
        int y0, y1;
        float fy;
        resize_taps(y, h, oh, &y0, &y1, &fy);
        for (int x = 0; x < ow; x++) {
            int x0, x1;
            float fx;
            resize_taps(x, w, ow, &x0, &x1, &fx);
            float top = img[y0 * w + x0] * (1 - fx) + img[y0 * w + x1] * fx;
            float bottom = img[y1 * w + x0] * (1 - fx) + img[y1 * w + x1] * fx;
            out[y * ow + x] = top * (1 - fy) + bottom * fy;
        }
    }
}

void parm_encode(enum parm_encoder e, int k, const float *images, float *parity)
{
    enum { R = FMNIST_ROWS, C = FMNIST_COLS };
    if (e == PARM_ADD) {
        memset(parity, 0, FMNIST_PIXELS * sizeof *parity);
        for (int i = 0; i < k; i++)
            for (int p = 0; p < FMNIST_PIXELS; p++)
                parity[p] += images[i * FMNIST_PIXELS + p];
        return;
    }
    /* concat: k = 2 -> 1 x 2 tiles of 28x14; k = 4 -> 2 x 2 tiles of 14x14 */
    int rows = k == 4 ? 2 : 1, th = R / rows, tw = C / 2;
    float tile[FMNIST_PIXELS];
    for (int i = 0; i < k; i++) {
        parm_resize(images + i * FMNIST_PIXELS, R, C, tile, th, tw);
        int oy = (i / 2) * th, ox = (i % 2) * tw;
        for (int y = 0; y < th; y++)
            memcpy(parity + (oy + y) * C + ox, tile + y * tw, (size_t)tw * sizeof *tile);
    }
}

void parm_decode(const float *parity_out, const float *outs, int k, int missing, int C,
                 float *out)
{
    for (int c = 0; c < C; c++) {
        float v = parity_out[c];
        for (int i = 0; i < k; i++)
            if (i != missing)
                v -= outs[i * C + c];
        out[c] = v;
    }
}

/* Encodes `groups` groups of k images, group g = images idx[g*k .. g*k+k),
 * into parity (groups x 784); scratch holds k images. */
static void encode_groups(enum parm_encoder e, int k, const struct fmnist *data, const int *idx,
                          size_t groups, float *scratch, int *labels, float *parity)
{
    for (size_t g = 0; g < groups; g++) {
        fmnist_gather(data, idx + g * k, (size_t)k, scratch, labels);
        parm_encode(e, k, scratch, parity + g * FMNIST_PIXELS);
    }
}

int parm_evaluate(struct model *base, struct model *parity, enum parm_encoder e, int k,
                  const struct fmnist *data, const int *idx, size_t n, struct parm_eval *out,
                  struct error *err)
{
    *out = (struct parm_eval){0};
    int rc = parm_check(e, k, err);
    if (rc)
        return rc;
    int C = base->outputs;
    size_t groups = n / (size_t)k, used = groups * (size_t)k;
    if (groups == 0)
        return error_at(err, NULL, 0, "parm evaluation needs at least k = %d images", k);
    int *order = malloc(used * sizeof *order);
    int *labels = malloc(used * sizeof *labels);
    float *x = malloc(used * FMNIST_PIXELS * sizeof *x);
    float *base_out = malloc(used * (size_t)C * sizeof *base_out);
    float *par_in = malloc(groups * FMNIST_PIXELS * sizeof *par_in);
    float *par_out = malloc(groups * (size_t)C * sizeof *par_out);
    float *decoded = malloc((size_t)C * sizeof *decoded);
    if (!order || !labels || !x || !base_out || !par_in || !par_out || !decoded) {
        rc = error_fail(err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < used; i++)
        order[i] = idx ? idx[i] : (int)i;
    fmnist_gather(data, order, used, x, labels);
    for (size_t g = 0; g < groups; g++)
        parm_encode(e, k, x + g * k * FMNIST_PIXELS, par_in + g * FMNIST_PIXELS);
    rc = learned_forward_all(base, x, used, base_out, err);
    if (!rc)
        rc = learned_forward_all(parity, par_in, groups, par_out, err);
    if (rc)
        goto done;
    size_t avail = 0, degraded = 0, recon = 0;
    for (size_t g = 0; g < groups; g++) {
        const float *outs = base_out + g * k * (size_t)C;
        for (int j = 0; j < k; j++) {
            int truth = labels[g * k + j];
            int base_class = model_argmax(outs + j * C, C);
            avail += base_class == truth;
            parm_decode(par_out + g * (size_t)C, outs, k, j, C, decoded);
            int dec_class = model_argmax(decoded, C);
            degraded += dec_class == truth;
            recon += dec_class == base_class;
        }
    }
    out->groups = groups;
    out->available_accuracy = (double)avail / (double)used;
    out->degraded_accuracy = (double)degraded / (double)used;
    out->reconstruction_accuracy = (double)recon / (double)used;
done:
    free(order);
    free(labels);
    free(x);
    free(base_out);
    free(par_in);
    free(par_out);
    free(decoded);
    return rc;
}

int parm_train(const struct parm_train_config *c, struct model *base, const struct fmnist *data,
               struct model **parity, learned_progress_fn progress, void *ctx,
               struct error *err)
{
    *parity = NULL;
    int k = c->k, C = base->outputs, B = c->opt.batch;
    int rc = parm_check(c->encoder, k, err);
    if (rc)
        return rc;
    int *train = NULL, *val = NULL, *order = NULL, *labels = NULL;
    size_t ntrain, nval;
    float *logits = NULL, *x = NULL, *par_in = NULL, *target = NULL, *dout = NULL;
    struct optim *opt = NULL;
    struct model *pm = NULL;
    rc = learned_split(&c->opt, data, &train, &ntrain, &val, &nval, err);
    if (rc)
        return rc;
    learned_set_threads(c->opt.threads);
    /* base logits of every image, computed once: (data->n x C) */
    logits = malloc(data->n * (size_t)C * sizeof *logits);
    order = malloc(ntrain * sizeof *order);
    labels = malloc((size_t)k * sizeof *labels);
    x = malloc((size_t)k * FMNIST_PIXELS * sizeof *x);
    par_in = malloc((size_t)B * FMNIST_PIXELS * sizeof *par_in);
    target = malloc((size_t)B * C * sizeof *target);
    dout = malloc((size_t)B * C * sizeof *dout);
    if (!logits || !order || !labels || !x || !par_in || !target || !dout) {
        rc = error_fail(err, "out of memory");
        goto done;
    }
    rc = learned_forward_all(base, data->images, data->n, logits, err);
    if (!rc)
        rc = learned_net_new(&pm, base->arch, base->input, c->opt.seed, 1, err);
    if (!rc)
        rc = optim_new(&opt, &c->opt.optim, pm->nparams, err);
    if (rc)
        goto done;
    size_t groups_per_pass = ntrain / (size_t)k;
    long steps_per_epoch = (long)k * (long)((groups_per_pass + (size_t)B - 1) / (size_t)B);
    long total = steps_per_epoch * c->opt.epochs, step = 0;
    for (int epoch = 1; epoch <= c->opt.epochs; epoch++) {
        double t0 = now_seconds(), loss_sum = 0;
        long loss_n = 0;
        for (int pass = 0; pass < k; pass++) {
            memcpy(order, train, ntrain * sizeof *order);
            learned_shuffle(c->opt.seed, (long)(epoch - 1) * k + pass, order, ntrain);
            for (size_t g0 = 0; g0 < groups_per_pass; g0 += (size_t)B) {
                int nb = (int)(groups_per_pass - g0 < (size_t)B ? groups_per_pass - g0 : (size_t)B);
                const int *gidx = order + g0 * k;
                encode_groups(c->encoder, k, data, gidx, (size_t)nb, x, labels, par_in);
                for (int g = 0; g < nb; g++)
                    for (int cl = 0; cl < C; cl++) {
                        float s = 0;
                        for (int i = 0; i < k; i++)
                            s += logits[(size_t)gidx[g * k + i] * C + cl];
                        target[g * C + cl] = s;
                    }
                const float *out;
                rc = model_forward(pm, par_in, nb, &out, err);
                if (rc)
                    goto done;
                size_t ne = (size_t)nb * C;
                loss_sum += mse_forward(out, target, ne) * nb;
                loss_n += nb;
                mse_backward(dout, out, target, ne, 1.0f / (float)ne);
                model_zero_grad(pm);
                rc = model_backward(pm, dout, nb, NULL, err);
                if (rc)
                    goto done;
                optim_set_lr(opt, learned_lr(&c->opt, step++, total));
                optim_step(opt, pm->params, pm->grads);
            }
        }
        struct learned_epoch rec = {
            .epoch = epoch, .epochs = c->opt.epochs, .loss = loss_sum / (double)loss_n,
            .val_accuracy = NAN, .val_name = "degraded_accuracy",
        };
        if (nval >= (size_t)k) {
            struct parm_eval ev;
            rc = parm_evaluate(base, pm, c->encoder, k, data, val, nval, &ev, err);
            if (rc)
                goto done;
            rec.val_accuracy = ev.degraded_accuracy;
        }
        rec.seconds = now_seconds() - t0;
        if (progress)
            progress(&rec, ctx);
    }
    *parity = pm;
    pm = NULL;
done:
    model_free(pm);
    optim_free(opt);
    free(train);
    free(val);
    free(order);
    free(labels);
    free(logits);
    free(x);
    free(par_in);
    free(target);
    free(dout);
    return rc;
}

/* The base model of workload.model with workload.weights loaded. */
static int parm_load_base(const struct learned_train_env *env, struct model **base,
                          struct error *err)
{
    char path[4096];
    int rc = learned_path(env->params, "workload.weights", "the base model's weights file", path,
                          sizeof path, err);
    if (!rc)
        rc = model_new(base, params_string(env->params, "workload.model"), err);
    if (!rc)
        rc = weights_load(*base, path, err);
    return rc;
}

int parm_train_command(const struct learned_train_env *env, struct error *err)
{
    const struct params *p = env->params;
    struct parm_train_config c = {.k = (int)learned_int_or(p, "scheme.k", 2), .opt = env->opt};
    if (parm_encoder_parse(learned_string_or(p, "scheme.encoder", "add"), &c.encoder) != 0)
        return error_at_key(err, p, "scheme.encoder", "must be add or concat");
    struct error e;
    if (parm_check(c.encoder, c.k, &e))
        return error_at_key(err, p, "scheme.k", "%s", e.msg);
    struct model *base = NULL, *parity = NULL;
    int rc = parm_load_base(env, &base, err);
    if (!rc)
        rc = learned_located(env, parm_train(&c, base, env->train, &parity, env->progress,
                                             env->progress_ctx, err), err);
    if (!rc)
        rc = env->save(env->ctx, parity, "parity", err);
    struct parm_eval ev;
    if (!rc)
        rc = parm_evaluate(base, parity, c.encoder, c.k, env->test, NULL, env->test->n, &ev, err);
    if (!rc && env->log)
        fprintf(env->log,
                "test: k=%d encoder=%s available_accuracy=%.4f degraded_accuracy=%.4f "
                "reconstruction_accuracy=%.4f\n",
                c.k, parm_encoder_name(c.encoder), ev.available_accuracy, ev.degraded_accuracy,
                ev.reconstruction_accuracy);
    model_free(base);
    model_free(parity);
    return rc;
}
