/* stop.c: the stop flag of stop.h and its signal handlers. */
#include "app/stop.h"

#include <stddef.h>

static volatile sig_atomic_t stop_signal; /* 0, or the first stop signal */

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
enum { NSIGNALS = sizeof stop_signals / sizeof stop_signals[0] };
static struct sigaction saved[NSIGNALS];
static bool installed;

static void stop_on_signal(int sig)
{
    if (!stop_signal)
        stop_signal = sig;
    signal(sig, SIG_DFL); /* a second signal ends the process */
}

void run_stop_install(void)
{
    stop_signal = 0;
    struct sigaction sa = {.sa_handler = stop_on_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(stop_signals[i], &sa, installed ? NULL : &saved[i]);
    installed = true;
}

void run_stop_uninstall(void)
{
    for (size_t i = 0; installed && i < NSIGNALS; i++)
        sigaction(stop_signals[i], &saved[i], NULL);
    installed = false;
}

bool run_stop_requested(void) { return stop_signal != 0; }

int run_stop_signal(void) { return stop_signal; }

volatile sig_atomic_t *run_stop_flag(void) { return &stop_signal; }
