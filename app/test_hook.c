/* test_hook.c: test-only stop at a chosen point (see test_hook.h). Reads
 * the environment and raises SIGSTOP; touches nothing else. */
#include "app/test_hook.h"

#include <signal.h>
#include <stdlib.h>

void test_hook_point_begins(size_t nth)
{
    const char *at = getenv("STRAGSIM_TEST_STOP_AT_POINT");
    if (!at || !*at)
        return;
    char *end;
    long k = strtol(at, &end, 10);
    if (*end == '\0' && k > 0 && (size_t)k == nth)
        raise(SIGSTOP);
}
