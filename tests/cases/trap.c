/* trap: prints a line, flushes it, then executes __builtin_trap() (ud2).
 * The process must die of SIGILL (status 132 through a shell); under
 * memcheck, one "memcheck: " line names SIGILL. */
#include <stdio.h>

static volatile int reached_trap = 1;

int main(void)
{
    printf("before trap\n");
    fflush(stdout);
    if (reached_trap)
        __builtin_trap();
    printf("after trap (unreachable)\n");
    return 0;
}
