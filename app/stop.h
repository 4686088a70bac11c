/* stop.h: a stop request from outside (SIGINT, SIGTERM, SIGHUP), as a flag
 * that the long loops poll: the validation of a sweep's points, the run loop
 * between points, the MPI master between hand-outs. A loop that sees it
 * stops cleanly (a point in flight is finished and written first); a second
 * signal ends the process at once (the default action is restored by the
 * first). SIGHUP is treated like SIGTERM: a closed terminal stops a sweep
 * the same way `kill` does. Nothing here knows what is being stopped.
 */
#ifndef STRAG_STOP_H
#define STRAG_STOP_H

#include <signal.h>
#include <stdbool.h>

/* Installs the handlers of SIGINT, SIGTERM and SIGHUP and clears the flag. */
void run_stop_install(void);
/* Restores the dispositions run_stop_install replaced. */
void run_stop_uninstall(void);

/* A stop signal arrived since run_stop_install. */
bool run_stop_requested(void);
/* The first stop signal received (SIGINT, SIGTERM or SIGHUP), 0 if none:
 * the process exits with 128 + it. */
int run_stop_signal(void);
/* The flag itself, for code that takes a volatile flag (run_mpi.h). */
volatile sig_atomic_t *run_stop_flag(void);

#endif
