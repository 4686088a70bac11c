/* cmd_eval.c: `stragsim eval --model NAME --weights FILE [--batch B]
 * [--threads T] [--data-dir DIR]`: loads a weights file into a model, runs
 * the 10,000 Fashion-MNIST test images through it and prints key=value
 * lines (accuracy, loss, images_per_s timed over the forward passes only).
 * The evaluation itself is models/train.c's; this file parses arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/layers.h"
#include "models/train.h"
#include "models/weights.h"
#include "app/cli.h"
#include "app/commands.h"

static const char eval_usage[] =
    "usage: stragsim eval --model NAME --weights FILE [--batch B] [--threads T]\n"
    "                     [--data-dir DIR]\n"
    "\n"
    "Classifies the 10,000 Fashion-MNIST test images with the model NAME\n"
    "(logreg, mlp, lenet5) and the weights FILE (from stragsim train) and prints\n"
    "model=, images=, accuracy=, loss=, seconds=, images_per_s=, flops_per_image=\n"
    "and gflops= lines; seconds, images_per_s and gflops time the forward passes\n"
    "only (flops_per_image counts a multiply-add as 2); cpu_seconds= and\n"
    "images_per_cpu_s= are the process's CPU time (all threads) over the same\n"
    "passes; conv= names the conv forward path (STRAGSIM_CONV).\n"
    "\n"
    "  --model NAME     model architecture (required)\n"
    "  --weights FILE   weights file (required)\n"
    "  --batch B        images per forward pass (default 256)\n"
    "  --threads T      threads, each running a share of every batch (default 1)\n"
    "  --data-dir DIR   Fashion-MNIST directory (default " FMNIST_DEFAULT_DIR ")\n"
    "  -h, --help       this text\n";

struct eval_args {
    const char *model, *weights, *data_dir;
    int batch, threads;
};

static int eval_command(const struct eval_args *a, struct error *err)
{
    struct model *m = NULL;
    struct fmnist test = {0};
    struct train_eval ev;
    struct error merr;
    int rc = model_new(&m, a->model, &merr);
    if (rc)
        error_at(err, "--model", 0, "%s", merr.msg);
    if (!rc)
        rc = weights_load(m, a->weights, err);
    if (!rc)
        rc = fmnist_load(a->data_dir, FMNIST_TEST, &test, err);
    if (!rc) {
        rc = train_evaluate(m, &test, NULL, test.n, a->batch, a->threads, &ev, err);
    }
    if (!rc) {
        double per_s = ev.forward_seconds > 0 ? (double)ev.images / ev.forward_seconds : 0.0;
        double per_cpu_s =
            ev.forward_cpu_seconds > 0 ? (double)ev.images / ev.forward_cpu_seconds : 0.0;
        printf("model=%s\nimages=%zu\naccuracy=%.4f\nloss=%.4f\nseconds=%.3f\n"
               "images_per_s=%.0f\nflops_per_image=%.0f\ngflops=%.2f\nconv=%s\n"
               "cpu_seconds=%.3f\nimages_per_cpu_s=%.0f\n",
               a->model, ev.images, ev.accuracy, ev.loss, ev.forward_seconds, per_s, m->flops,
               m->flops * per_s / 1e9, conv2d_path_name(conv2d_path_default()),
               ev.forward_cpu_seconds, per_cpu_s);
    }
    fmnist_free(&test);
    model_free(m);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    struct eval_args a = {.batch = 256, .threads = 1};
    const struct cli_option options[] = {
        {.name = "model", .kind = CLI_ONCE, .to = &a.model},
        {.name = "weights", .kind = CLI_ONCE, .to = &a.weights},
        {.name = "batch", .kind = CLI_INT, .to = &a.batch, .min = 1, .max = 1 << 16},
        {.name = "threads", .kind = CLI_INT, .to = &a.threads, .min = 1, .max = 256},
        {.name = "data-dir", .kind = CLI_ONCE, .to = &a.data_dir},
        {0},
    };
    const struct cli_command cmd = {.name = "eval", .options = options, .usage = eval_usage};
    int first, status = cli_parse(&cmd, argc, argv, &first);
    if (status < 0 && first < argc)
        status = cli_error(&cmd, "unexpected argument '%s'", argv[first]);
    if (status < 0 && !a.model)
        status = cli_error(&cmd, "%s", "missing --model NAME (logreg, mlp, lenet5)");
    if (status < 0 && !a.weights)
        status = cli_error(&cmd, "%s", "missing --weights FILE");
    if (status < 0) {
        struct error err;
        int rc = eval_command(&a, &err);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    return status;
}
