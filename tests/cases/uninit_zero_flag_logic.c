/* ZF after or/xor is defined when a defined bit of the result is 1, as Valgrind decides it:
   `x == K && y == 0` compiles (clang) to xor $K, x; or y, x; jne, and with x known not to be K
   the undefined y cannot change the branch (CoreCLR's start-up made 58 such reports). The same
   with y undefined and x == K does depend on y: reported. The instructions are written out so
   the compiler cannot choose others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record { int kind; int pad[4]; int flags; };

/* (kind ^ 0x12) | flags, then jne: 1 when either is nonzero. */
__attribute__((noinline)) static int kind_or_flags(const struct record *r)
{
    int result;
    __asm__ volatile("mov (%1), %%ecx\n\t"
                     "mov 0x14(%1), %%eax\n\t"
                     "xor $0x12, %%ecx\n\t"
                     "or %%eax, %%ecx\n\t"
                     "jne 1f\n\t"
                     "mov $0, %0\n\t"
                     "jmp 2f\n"
                     "1:\tmov $1, %0\n"
                     "2:"
                     : "=r"(result) : "r"(r) : "eax", "ecx", "cc");
    return result;
}

/* low ^ word, then jne: the low byte is defined and differs, the upper bytes are not. */
__attribute__((noinline)) static int differs(const unsigned char *bytes, unsigned low)
{
    int result;
    __asm__ volatile("mov (%1), %%eax\n\t"
                     "xor %2, %%eax\n\t"
                     "jne 1f\n\t"
                     "mov $0, %0\n\t"
                     "jmp 2f\n"
                     "1:\tmov $1, %0\n"
                     "2:"
                     : "=r"(result) : "r"(bytes), "r"(low) : "eax", "cc");
    return result;
}

int main(void)
{
    struct record *known = malloc(sizeof *known);
    known->kind = 4;                                   /* not 0x12: flags cannot matter */
    struct record *unknown = malloc(sizeof *unknown);
    unknown->kind = 0x12;                              /* 0x12: flags decide */
    unsigned char *bytes = malloc(4);
    bytes[0] = 7;                                      /* only the low byte written */
    int a = kind_or_flags(known);
    int b = differs(bytes, 0);
    printf("or %d xor %d\n", a, b);
    int c = kind_or_flags(unknown);                                    /* LINE_DECIDED_BY_FLAGS */
    printf("control %d\n", c >= 0);
    free(known);
    free(unknown);
    free(bytes);
    return 0;
}
