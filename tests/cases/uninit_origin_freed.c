/* --track-origins=yes for a value copied out of a heap block that was then freed and pushed out of
 * the delayed frees (run with --delay-frees=0): no block holds its bytes any more, so the report
 * says its block was freed and recycled since, where it said nothing of the origin before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long copy;
static volatile int sink;

int main(void)
{
    long *block = malloc(4 * sizeof *block);   /* never written */
    memcpy(&copy, &block[1], sizeof copy);
    free(block);
    for (int i = 0; i < 100; i++) free(malloc(200));   /* another size class: the block's bytes stay free */
    if (copy > 5) /* LINE_USE */
        sink++;
    puts("done");
    return 0;
}
