/* cmd_train.c: `stragsim train CONFIG.ini [-o FILE] [--force] [--set
 * section.key=value]... [--quiet] [--smoke]`: reads the [train] section (and workload.model,
 * workload.data_dir, experiment.seed), trains the model on Fashion-MNIST
 * with models/train.c, prints one progress line per epoch to stderr and
 * writes the weights file (models/weights.c) at the end. The training itself
 * lives in models/; this file turns config keys into a train_config. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/train.h"
#include "models/weights.h"
#include "app/cli.h"
#include "app/commands.h"
#include "app/config.h"
#include "app/progress.h"
#include "app/smoke.h"
#include "app/train_learned.h"
#include "schemes/scheme.h"

static const char train_usage[] =
    "usage: stragsim train CONFIG.ini [-o FILE] [--force] [--set section.key=value]...\n"
    "                                 [--quiet] [--smoke]\n"
    "\n"
    "Trains workload.model on the Fashion-MNIST training set (workload.data_dir)\n"
    "as [train] says and writes the weights to train.output. Same seed, same\n"
    "train.threads, same machine: byte-identical weights. An existing weights\n"
    "file (such as the shipped models/weights/*.bin the configs name) is never\n"
    "overwritten without --force: the command refuses before training.\n"
    "\n"
    "  -o, --output FILE  write the weights to FILE instead of train.output\n"
    "  -f, --force        overwrite the weights file(s) if they exist\n"
    "  --set K=V          override a config key (repeatable)\n"
    "  -q, --quiet        no progress lines\n"
    "  --smoke            train at a tiny size, to check that the config trains\n"
    "                     (the caps below)\n"
    "  -h, --help         this text\n"
    "\n"
    "[train] keys: epochs, batch, optimizer (sgd|adam), learning_rate (the\n"
    "starting rate), schedule (cosine: anneal to 0 over the run, the default;\n"
    "constant), momentum, weight_decay, validation (training images held out),\n"
    "limit (train on this many images; 0 = all), output, threads.\n"
    "\n";

/* The rest of the usage: the learned codes (the schemes with a trainer)
 * and the caps. */
static void train_help(FILE *f)
{
    char codes[256];
    if (!scheme_trainable_names(" | ", codes, sizeof codes))
        snprintf(codes, sizeof codes, "...");
    fprintf(f, "train.target = %s trains a learned code\n", codes);
    fputs("instead (its scheme.* keys; weights to scheme.learned_weights.<part>.bin,\n"
          "refused before training when such a file exists, unless --force).\n"
          "\n"
          "--smoke caps:\n",
          f);
    smoke_caps_print(f, SMOKE_TRAIN);
}

/* One line per epoch; on a terminal the lines scroll above a progress bar
 * over the epochs (ctx: the bar, off when stderr is not a terminal). */
static void print_epoch(const struct train_epoch *e, void *ctx)
{
    struct progress *bar = ctx;
    char line[256];
    if (isnan(e->val_accuracy))
        snprintf(line, sizeof line, "epoch %d/%d loss=%.4f train_accuracy=%.4f (%.1f s)",
                 e->epoch, e->epochs, e->loss, e->train_accuracy, e->seconds);
    else
        snprintf(line, sizeof line, "epoch %d/%d loss=%.4f val_accuracy=%.4f (%.1f s)", e->epoch,
                 e->epochs, e->loss, e->val_accuracy, e->seconds);
    if (!progress_note(bar, line))
        fprintf(stderr, "%s\n", line);
    progress_done(bar);
    if (e->epoch < e->epochs) {
        snprintf(line, sizeof line, "epoch %d/%d", e->epoch + 1, e->epochs);
        progress_begin(bar, line);
    }
}

static const struct {
    const char *name;
    enum train_schedule schedule;
} train_schedules[] = {
    {"cosine", TRAIN_COSINE}, /* first: the default */
    {"constant", TRAIN_CONSTANT},
};

/* What the command line says about the weights file to write. */
struct train_target {
    const char *output; /* -o: instead of train.output (relative to the cwd) */
    bool force;         /* --force: an existing file may be overwritten */
};

/* The weights file to write into output: -o, else train.output resolved
 * against the config's directory. Refuses (before any training) a file that
 * exists, unless --force. */
static int train_output(const struct config *cfg, const struct train_target *to, char *output,
                        size_t pathlen, struct error *err)
{
    const struct params *p = config_base(cfg);
    if (to->output) {
        if (snprintf(output, pathlen, "%s", to->output) >= (int)pathlen)
            return error_at(err, NULL, 0, "stragsim train: -o: path too long");
    } else if (!params_has(p, "train.output")) {
        return error_at_key(err, p, "train.output",
                            "missing: stragsim train needs the weights file to write (or -o FILE)");
    } else if (!params_path(p, "train.output", output, pathlen)) {
        return error_at_key(err, p, "train.output", "path too long");
    }
    if (to->force || access(output, F_OK) != 0)
        return STRAG_OK;
    if (to->output)
        return error_at(err, NULL, 0, "stragsim train: %s exists (--force overwrites it)",
                        output);
    return error_at_key(err, p, "train.output",
                        "%s exists: write elsewhere with -o FILE, or overwrite it with --force",
                        output);
}

/* The config's keys as a train_config; workload.data_dir resolved against
 * the config's directory into data_dir. */
static int train_config_from(const struct config *cfg, struct train_config *tc, char *data_dir,
                             size_t pathlen, struct error *err)
{
    const struct params *p = config_base(cfg);
    if (!params_path(p, "workload.data_dir", data_dir, pathlen))
        return error_at_key(err, p, "workload.data_dir", "path too long");
    enum optim_kind kind;
    if (optim_kind_parse(params_string(p, "train.optimizer"), &kind) != 0)
        return error_at_key(err, p, "train.optimizer", "unknown optimizer");
    *tc = (struct train_config){
        .model = params_string(p, "workload.model"),
        .seed = (uint64_t)params_int(p, "experiment.seed"),
        .epochs = (int)params_int(p, "train.epochs"),
        .batch = (int)params_int(p, "train.batch"),
        .optim = optim_config_default(kind),
        .validation = (size_t)params_int(p, "train.validation"),
        .threads = (int)params_int(p, "train.threads"),
    };
    tc->optim.lr = (float)params_real(p, "train.learning_rate");
    tc->optim.momentum = (float)params_real(p, "train.momentum");
    tc->optim.weight_decay = (float)params_real(p, "train.weight_decay");
    /* train.schedule and train.limit are optional keys: absent, training
     * anneals the rate (cosine) and uses every training image. */
    const char *schedule = params_get(p, "train.schedule");
    size_t i = 0, n = sizeof train_schedules / sizeof train_schedules[0];
    while (schedule && i < n && strcmp(train_schedules[i].name, schedule) != 0)
        i++;
    if (i == n)
        return error_at_key(err, p, "train.schedule", "must be cosine or constant, got '%s'",
                            schedule);
    tc->schedule = train_schedules[schedule ? i : 0].schedule;
    if (params_has(p, "train.limit"))
        tc->limit = (size_t)params_int(p, "train.limit");
    return STRAG_OK;
}


/* Trains the config's model on Fashion-MNIST and writes its weights. */
static int train_model(const struct config *cfg, const struct train_target *to, bool quiet,
                       struct error *err)
{
    struct fmnist data = {0};
    struct model *m = NULL;
    char data_dir[4096], output[4096];
    struct train_config tc;
    int rc = train_config_from(cfg, &tc, data_dir, sizeof data_dir, err);
    if (!rc)
        rc = train_output(cfg, to, output, sizeof output, err);
    if (!rc)
        rc = fmnist_load(data_dir, FMNIST_TRAIN, &data, err);
    if (!rc) {
        struct error terr;
        struct progress *bar =
            quiet ? NULL : progress_new(stderr, (size_t)tc.epochs, PROGRESS_AUTO);
        char first[32];
        snprintf(first, sizeof first, "epoch 1/%d", tc.epochs);
        progress_begin(bar, first);
        rc = train_run(&tc, &data, &m, quiet ? NULL : print_epoch, bar, &terr);
        progress_finish(bar);
        progress_free(bar);
        if (rc) /* train_run's errors have no location: they are about this config */
            error_at(err, config_path(cfg), 0, "%s", terr.msg);
    }
    if (!rc)
        rc = weights_save(m, output, err);
    if (!rc && !quiet)
        fprintf(stderr, "wrote %s\n", output);
    model_free(m);
    fmnist_free(&data);
    return rc;
}

static int train_command(const char *path, const char *const *sets, size_t nsets,
                         const struct train_target *to, bool quiet, bool smoke,
                         struct error *err)
{
    struct config *cfg = NULL;
    int rc = smoke_config_load(SMOKE_TRAIN, smoke, path, sets, nsets, &cfg, err);
    bool learned = !rc && train_learned_wanted(cfg); /* train.target = a learned code */
    if (learned && to->output)
        rc = error_at(err, NULL, 0,
                      "stragsim train: -o is for a model's weights; a learned code writes "
                      "scheme.learned_weights.<part>.bin");
    else if (learned)
        rc = train_learned(cfg, quiet, to->force, err);
    else if (!rc)
        rc = train_model(cfg, to, quiet, err);
    config_free(cfg);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    struct cli_list sets = {0};
    bool quiet = false, smoke = false;
    struct train_target to = {0};
    const struct cli_option options[] = {
        {.name = "set", .kind = CLI_LIST, .to = &sets},
        {.name = "output", .letter = 'o', .kind = CLI_ONCE, .to = &to.output,
         .label = "-o/--output"},
        {.name = "force", .letter = 'f', .kind = CLI_FLAG, .to = &to.force},
        {.name = "quiet", .letter = 'q', .kind = CLI_FLAG, .to = &quiet},
        {.name = "smoke", .kind = CLI_FLAG, .to = &smoke},
        {0},
    };
    const struct cli_command cmd = {
        .name = "train", .options = options, .usage = train_usage, .usage_more = train_help,
        .operand = "CONFIG.ini", .synopsis = "stragsim train CONFIG.ini",
    };
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0)
        status = cli_one_operand(&cmd, argc, argv, first);
    if (status < 0) {
        struct error err;
        int rc = train_command(argv[first], sets.items, sets.n, &to, quiet, smoke, &err);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    cli_list_free(&sets);
    return status;
}
