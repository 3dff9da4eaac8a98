/* Registers holding undefined values overwritten in the propagating mode: an instruction whose
   inputs are defined defines what it writes whole (a 32- or 64-bit register, all six status
   flags), so nothing is reported after it; what it writes in part (a byte register, inc's flags
   without CF) keeps the rest undefined, and that is reported, as Valgrind does. */
#include <stdio.h>
#include <stdlib.h>

static volatile int sink;

__attribute__((noinline)) static void whole_register_overwritten(const int *undefined)
{
    int r;
    __asm__ volatile("movl (%1), %0\n\t"      /* undefined */
                     "movl $1, %0\n\t"        /* written whole from an immediate: defined */
                     : "=&r"(r) : "r"(undefined));
    if (r == 1) /* no report */
        sink++;
}

__attribute__((noinline)) static void byte_register_overwritten(const int *undefined)
{
    int r;
    __asm__ volatile("movl (%1), %%eax\n\t"   /* undefined */
                     "movb $1, %%al\n\t"      /* only the low byte defined */
                     "movl %%eax, %0\n\t"
                     : "=r"(r) : "r"(undefined) : "eax");
    if (r == 1) /* LINE_BYTE */
        sink++;
}

__attribute__((noinline)) static void zeroed_by_xor(const int *undefined)
{
    int r;
    __asm__ volatile("movl (%1), %0\n\t"
                     "xorl %0, %0\n\t"        /* zero whatever it held: defined */
                     : "=&r"(r) : "r"(undefined));
    if (r == 0) /* no report */
        sink++;
}

__attribute__((noinline)) static void carry_kept_by_inc(const int *undefined, int n)
{
    int carry;
    __asm__ volatile("cmpl $5, (%2)\n\t"      /* flags from an undefined value */
                     "incl %1\n\t"            /* OF SF ZF AF PF defined, CF kept undefined */
                     "setc %b0\n\t"
                     "movzbl %b0, %0\n\t"
                     : "=&q"(carry), "+r"(n) : "r"(undefined) : "cc");
    if (carry) /* LINE_CARRY: setc put the undefined carry into bit 0 */
        sink++;
    sink += n;
}

__attribute__((noinline)) static void flags_rewritten_by_add(const int *undefined, int n)
{
    int carry;
    __asm__ volatile("cmpl $5, (%2)\n\t"      /* flags from an undefined value */
                     "addl $1, %1\n\t"        /* every status flag from defined inputs */
                     "setc %b0\n\t"
                     "movzbl %b0, %0\n\t"
                     : "=&q"(carry), "+r"(n) : "r"(undefined) : "cc");
    if (carry) /* no report */
        sink++;
    sink += n;
}

__attribute__((noinline)) static void loaded_over_from_undefined(const int *undefined, const int *other)
{
    int r;
    __asm__ volatile("movl (%1), %0\n\t"      /* undefined */
                     "movl (%2), %0\n\t"      /* overwritten by another undefined load */
                     : "=&r"(r) : "r"(undefined), "r"(other));
    if (r == 7) /* LINE_RELOADED */
        sink++;
}

int main(void)
{
    int *p = malloc(8 * sizeof *p);
    whole_register_overwritten(p);
    byte_register_overwritten(p + 1);
    zeroed_by_xor(p + 2);
    carry_kept_by_inc(p + 3, 1);
    flags_rewritten_by_add(p + 4, 1);
    loaded_over_from_undefined(p + 5, p + 6);
    free(p);
    puts("done");
    return 0;
}
