/* Undefined arguments to the replaced allocation functions, whose handlers run outside the
 * program's code: malloc's size and realloc's size from a field never written, free of a pointer
 * read from a block never written (a NULL there natively: fresh memory from the kernel is zero). */
#include <stdio.h>
#include <stdlib.h>

struct config { size_t capacity; void *spare; };

int main(void)
{
    struct config *c = malloc(sizeof *c); /* neither field is ever set */
    char *buffer = malloc(c->capacity & 0xff); /* LINE_MALLOC */
    char *grown = realloc(buffer, (c->capacity & 0xf) + 16); /* LINE_REALLOC */
    free(c->spare); /* LINE_FREE */
    free(grown);
    free(c);
    puts("done");
    return 0;
}
