/* cmd_capture.h: for tests that call a cmd_* function in-process: a fresh
 * mkdtemp directory per test (tmp_dir.h), and running a command with its
 * stdout and stderr captured into strings (file descriptors 1 and 2 are
 * redirected, so nothing reaches the TAP stream). Header-only, for the test
 * programs. */
#ifndef STRAG_TEST_CMD_CAPTURE_H
#define STRAG_TEST_CMD_CAPTURE_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmp_dir.h"

static char out_text[1 << 18], err_text[1 << 16];

/* Runs cmd(argc, argv) with argv = the NULL-terminated args (argv[0] is the
 * command name); fills out_text / err_text; returns the exit status. */
static inline int run_cmd(int (*cmd)(int, char **), const char *const *args)
{
    char *argv[64];
    int argc = 0;
    for (; args[argc]; argc++) {
        cr_assert_lt(argc, 63);
        argv[argc] = strdup(args[argc]);
    }
    argv[argc] = NULL;
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/.out", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/.err", tmpdir);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fo = open(out_path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    int fe = open(err_path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    cr_assert(saved_out >= 0 && saved_err >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    int status = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(fo);
    close(fe);
    close(saved_out);
    close(saved_err);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    slurp(out_path, out_text, sizeof out_text);
    slurp(err_path, err_text, sizeof err_text);
    return status;
}

#define RUN(cmd, ...) run_cmd(cmd, (const char *const[]){__VA_ARGS__, NULL})

#endif
