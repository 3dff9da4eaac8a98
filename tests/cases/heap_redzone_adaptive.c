/* Redzones that grow with the block: the 100-byte block p gets 64-byte redzones by default, so a
 * write 40 bytes past its end is in p's own redzone; with --redzone-size 16 it lands in the next
 * block's left redzone (and the write 200 past, beyond q, in heap never handed out), and with --redzone-size 256 even a write 200 bytes past the end is in p's
 * (by default that one goes into the live block q that follows p, where nothing can tell). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    char *p = malloc(100);
    char *q = malloc(100);
    p[140] = 1; /* LINE_40_PAST */
    p[300] = 2; /* LINE_200_PAST */
    free(q);
    free(p);
    puts("done");
    return 0;
}
