/* Invalid heap arguments: a double free through a helper, a free of a stack address, a free of an
 * interior pointer, and a stale pointer freed after realloc moved the block. Each call site is
 * marked so the test can find its line. */
#include <stdio.h>
#include <stdlib.h>

static void release(char *p)
{
    free(p); /* LINE_RELEASE */
}

int main(void)
{
    char *block = malloc(10); /* LINE_ALLOC */
    release(block);
    release(block); /* LINE_DOUBLE */
    char local[4];
    char *volatile not_heap = local;
    free(not_heap); /* LINE_STACK */
    char *q = malloc(32);
    free(q + 8); /* LINE_INTERIOR */
    char *r = malloc(16);
    char *moved = realloc(r, 4096);
    free(r); /* LINE_STALE */
    free(moved);
    free(q);
    puts("done");
    return 0;
}
