/* One use site reached from two callers, each with an undefined value from its own heap block:
 * two errors (their stacks differ) at the same pc, each naming the block its value came from under
 * --track-origins=yes (the second named none when the origin was looked up once per site). */
#include <stdio.h>
#include <stdlib.h>

static volatile int taken;

__attribute__((noinline)) static void check(const int *p)
{
    if (*p > 0) /* LINE_USE */
        taken++;
}

__attribute__((noinline)) static void first(void)
{
    int *p = malloc(16); /* ALLOC_FIRST */
    check(p);
    free(p);
}

__attribute__((noinline)) static void second(void)
{
    int *p = malloc(24); /* ALLOC_SECOND */
    check(p);
    free(p);
}

int main(void)
{
    first();
    second();
    puts("done");
    return 0;
}
