/* test_hook.h: test-only: lets a test meet a sweep at a known point instead
 * of at a guessed moment. With STRAGSIM_TEST_STOP_AT_POINT=k in the
 * environment, a single-process `stragsim run` stops itself (SIGSTOP) as it
 * begins the k-th point it computes in this invocation (counting from 1,
 * after its check for a stop request), when the k-1 points before it are
 * committed. The test then signals or kills it, or reads the database, and
 * sends SIGCONT; a SIGINT/SIGTERM sent while it is stopped lands while point
 * k is in flight. Unset, or not a positive integer, it does nothing. Not a
 * user feature: tests/test_cli.c, tests/test_resume_kill.sh and
 * tests/test_concurrent_readers.sh use it. MPI runs ignore it. */
#ifndef STRAG_TEST_HOOK_H
#define STRAG_TEST_HOOK_H

#include <stddef.h>

/* Called by the run loop as it begins its nth computed point (n from 1). */
void test_hook_point_begins(size_t nth);

#endif
