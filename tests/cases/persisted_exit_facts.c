/* Persisted translations and what follows a block's exit: two builds (VALUE 1 and 2) whose bytes
 * differ only after the join the checked load's block falls into. Build 1 overwrites rcx there
 * first, so that block's check may borrow rcx; build 2 reads rcx there first. A run of build 2
 * from build 1's snapshot must not reuse that block's translation, though its own bytes are the
 * same at the same address: its translation read the bytes after it. */
#include <stdio.h>

#ifndef VALUE
#define VALUE 1
#endif

static unsigned long values[16];

__attribute__((noinline)) static unsigned long probe(const unsigned long *p, unsigned long c, unsigned long skip)
{
    unsigned long out = 0;
    __asm__ volatile("test %[skip], %[skip]\n\t"
                     "jnz 1f\n\t"
                     "mov (%[p]), %[out]\n\t"
                     "1:\n\t"
#if VALUE == 1
                     "mov $5, %%ecx\n\t"
                     "add %%rcx, %[out]\n\t"
#else
                     "add %%rcx, %[out]\n\t"
                     "mov $5, %%ecx\n\t"
#endif
                     : [out] "+&r"(out), "+c"(c)
                     : [p] "r"(p), [skip] "r"(skip)
                     : "cc", "memory");
    return out;
}

int main(int argc, char **argv)
{
    (void)argv;
    for (int i = 0; i < 16; i++) values[i] = 1000u * (unsigned)i;
    unsigned long sum = 0;
    for (int round = 0; round < 1000; round++)
        for (int i = 0; i < 16; i++) sum += probe(&values[i], 7u * (unsigned)i + (unsigned)argc, 0);
    printf("built %d sum %lu\n", VALUE, sum);
    return 0;
}
