/* Heap bounds by one byte: a 10-byte block read and written 1 byte past its end (p[10]) and 1 byte
 * before its start (p[-1]). Four distinct unaddressable accesses, each on its own marked line.
 * Natively harmless: p[10] lies in malloc's rounding slack, and p[-1] (the top byte of glibc's
 * chunk header) is written back with the value just read from it. */
#include <stdio.h>
#include <stdlib.h>

/* Hides the block's size from gcc, so it neither warns about nor folds the accesses. */
static __attribute__((noinline)) volatile char *opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

int main(void)
{
    volatile char *p = opaque(malloc(10)); /* LINE_ALLOC */
    for (int i = 0; i < 10; i++) p[i] = (char)i;
    char after = p[10]; /* LINE_READ_AFTER */
    p[10] = after; /* LINE_WRITE_AFTER */
    char before = p[-1]; /* LINE_READ_BEFORE */
    p[-1] = before; /* LINE_WRITE_BEFORE */
    int sum = 0;
    for (int i = 0; i < 10; i++) sum += p[i];
    free((void *)p);
    printf("sum %d\n", sum);
    return 0;
}
