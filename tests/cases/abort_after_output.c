/* abort_after_output: prints a line, flushes it, then calls abort(). The
 * process must die of SIGABRT (status 134 through a shell) with the line
 * already written, natively and under memcheck. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("before abort\n");
    fflush(stdout);
    abort();
}
