/* --track-origins=yes for values copied out of heap blocks that were then freed and pushed out of
 * the delayed frees (run with --delay-frees=0): the report names the block each was read from and
 * its allocation, "freed since", as Valgrind names a heap allocation. Before, the first (its memory
 * left free) named no origin, and the second (its memory reused by a block of the same size)
 * named the block that reused it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long copy, reused_copy;
static volatile int sink;

int main(void)
{
    long *block = malloc(4 * sizeof *block);   /* LINE_ALLOC: never written */
    memcpy(&copy, &block[1], sizeof copy);
    free(block);
    for (int i = 0; i < 100; i++) free(malloc(200));   /* another size class: the block's bytes stay free */
    if (copy > 5) /* LINE_USE */
        sink++;
    long *other = malloc(6 * sizeof *other);   /* LINE_ALLOC_REUSED: never written */
    memcpy(&reused_copy, &other[2], sizeof reused_copy);
    free(other);
    for (int i = 0; i < 100; i++) free(malloc(48));   /* the same size: its memory is another block's */
    if (reused_copy > 5) /* LINE_USE_REUSED */
        sink++;
    puts("done");
    return 0;
}
