/* cmd_eval.c: `stragsim eval --model NAME --weights FILE [--batch B]
 * [--threads T] [--data-dir DIR]`: loads a weights file into a model, runs
 * the 10,000 Fashion-MNIST test images through it and prints key=value
 * lines (accuracy, loss, images_per_s timed over the forward passes only).
 * The evaluation itself is models/train.c's; this file parses arguments. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    "only (flops_per_image counts a multiply-add as 2).\n"
    "\n"
    "  --model NAME     model architecture (required)\n"
    "  --weights FILE   weights file (required)\n"
    "  --batch B        images per forward pass (default 256)\n"
    "  --threads T      threads, each running a share of every batch (default 1)\n"
    "  --data-dir DIR   Fashion-MNIST directory (default " FMNIST_DEFAULT_DIR ")\n"
    "  -h, --help       this text\n";

/* one line "stragsim eval: ..." on stderr, exit status 2 */
#define eval_fail(...) cli_fail("eval", __VA_ARGS__)

/* A positive int option value, or -1. */
static int positive(const char *s, int max)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v >= 1 && v <= max ? (int)v : -1;
}

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
        printf("model=%s\nimages=%zu\naccuracy=%.4f\nloss=%.4f\nseconds=%.3f\n"
               "images_per_s=%.0f\nflops_per_image=%.0f\ngflops=%.2f\n",
               a->model, ev.images, ev.accuracy, ev.loss, ev.forward_seconds, per_s, m->flops,
               m->flops * per_s / 1e9);
    }
    fmnist_free(&test);
    model_free(m);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},   {"weights", required_argument, NULL, 'w'},
        {"batch", required_argument, NULL, 'b'},   {"threads", required_argument, NULL, 't'},
        {"data-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct eval_args a = {.batch = 256, .threads = 1};
    int status = -1;

    optind = 0; /* full reset: commands may be called more than once (tests) */
    opterr = 0;
    int c;
    while (status < 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            status = cli_once("eval", "--model", &a.model, optarg);
            break;
        case 'w':
            status = cli_once("eval", "--weights", &a.weights, optarg);
            break;
        case 'd':
            status = cli_once("eval", "--data-dir", &a.data_dir, optarg);
            break;
        case 'b':
            if ((a.batch = positive(optarg, 1 << 16)) < 0)
                status = eval_fail("--batch must be an integer from 1 to 65536, got '%s'", optarg);
            break;
        case 't':
            if ((a.threads = positive(optarg, 256)) < 0)
                status = eval_fail("--threads must be an integer from 1 to 256, got '%s'", optarg);
            break;
        case 'h':
            fputs(eval_usage, stdout);
            status = 0;
            break;
        default:
            status = cli_option_error("eval", c, argv);
            break;
        }
    }
    if (status < 0 && optind < argc)
        status = eval_fail("unexpected argument '%s'", argv[optind]);
    if (status < 0 && !a.model)
        status = eval_fail("%s", "missing --model NAME (logreg, mlp, lenet5)");
    if (status < 0 && !a.weights)
        status = eval_fail("%s", "missing --weights FILE");
    if (status < 0) {
        struct error err;
        int rc = eval_command(&a, &err);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        status = rc ? 2 : 0;
    }
    return status;
}
