/* Overflow of aligned blocks: one byte written just past the requested size of a posix_memalign
 * block (64-aligned, 100 bytes) and of an aligned_alloc block (256-aligned, 512 bytes). The
 * replacement allocator must honour the alignment and still put the redzone right after the
 * requested size. Natively the byte lies in malloc's rounding slack. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static __attribute__((noinline)) volatile char *opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

int main(void)
{
    void *memaligned = NULL;
    int rc = posix_memalign(&memaligned, 64, 100); /* LINE_POSIX_ALLOC */
    volatile char *a = opaque(memaligned);
    a[99] = 1;
    a[100] = 2; /* LINE_POSIX_WRITE */
    volatile char *b = opaque(aligned_alloc(256, 512)); /* LINE_ALIGNED_ALLOC */
    b[511] = 3;
    b[512] = 4; /* LINE_ALIGNED_WRITE */
    printf("rc %d aligned %d %d\n", rc, (uintptr_t)a % 64 == 0, (uintptr_t)b % 256 == 0);
    free((void *)a);
    free((void *)b);
    return 0;
}
