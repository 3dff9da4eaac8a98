/* Stack adjustments whose flags are read: memcheck updates the stack's shadow inline after
 * `add rsp, imm` and must hand the program the flags that add produced (lahf right after it). The
 * same addition on a copy of rsp gives the expected flags; every pair must agree. */
#include <stdio.h>

#define PROBE(delta, same)                                                                  \
    do {                                                                                    \
        unsigned char expected, actual;                                                     \
        __asm__ volatile("mov %%rsp, %%rcx\n\t"                                             \
                         "sub $512, %%rsp\n\t"                                              \
                         "mov %%rsp, %%rax\n\t"                                             \
                         "add $" #delta ", %%rax\n\t"                                       \
                         "lahf\n\t"                                                         \
                         "mov %%ah, %0\n\t"                                                 \
                         "add $" #delta ", %%rsp\n\t"                                       \
                         "lahf\n\t"                                                         \
                         "mov %%ah, %1\n\t"                                                 \
                         "mov %%rcx, %%rsp"                                                 \
                         : "=Q"(expected), "=Q"(actual) : : "rax", "rcx", "cc", "memory");  \
        same += expected == actual;                                                         \
    } while (0)

int main(void)
{
    int same = 0;
    for (int i = 0; i < 50; i++) {
        PROBE(8, same);
        PROBE(24, same);
        PROBE(40, same);
        PROBE(100, same);
        PROBE(128, same);
    }
    printf("flags kept %d of 250\n", same);
    return 0;
}
