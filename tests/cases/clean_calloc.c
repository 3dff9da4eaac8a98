/* Clean: calloc'd memory read back (every byte is zero and defined): blocks of many sizes,
 * a large one (natively an mmap), arrays of ints and structs, and a calloc'd block grown with
 * realloc whose old part is read again. Must report nothing. */
#include <stdio.h>
#include <stdlib.h>

struct cell { char c; long l; short s; };

int main(void)
{
    unsigned long nonzero = 0, bytes = 0;
    for (size_t size = 1; size <= 300; size += 7) {
        unsigned char *p = calloc(size, 1);
        for (size_t i = 0; i < size; i++) nonzero += p[i] != 0;
        bytes += size;
        free(p);
    }
    size_t big = 1 << 20;
    unsigned char *large = calloc(big, 1);
    for (size_t i = 0; i < big; i += 61) nonzero += large[i] != 0;
    bytes += big;
    free(large);

    int *ints = calloc(1000, sizeof *ints);
    for (int i = 0; i < 1000; i++) nonzero += ints[i] != 0;
    struct cell *cells = calloc(50, sizeof *cells);
    for (int i = 0; i < 50; i++) nonzero += cells[i].c != 0 || cells[i].l != 0 || cells[i].s != 0;
    cells[7].l = 7;

    ints = realloc(ints, 4000 * sizeof *ints);
    for (int i = 0; i < 1000; i++) nonzero += ints[i] != 0;
    cells = realloc(cells, 100 * sizeof *cells);
    for (int i = 0; i < 50; i++) nonzero += i != 7 && cells[i].l != 0;
    long kept = cells[7].l;
    free(ints);
    free(cells);
    printf("calloc bytes %lu nonzero %lu kept %ld\n", bytes, nonzero, kept);
    return 0;
}
