/* x87 definedness: a long double (always on the x87 stack) or, with -mfpmath=387, a double that is
 * undefined is reported where it decides a branch (fcomi/fucomi set the flags; fnstsw copies the
 * condition codes, sahf or a test of them branches), and stays undefined through arithmetic and
 * through fstp to memory; defined long doubles beside undefined padding report nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile int taken; /* what the undefined branches do: nothing printed, so the output does not depend on them */

__attribute__((noinline)) static long double scaled(long double x) { return x * 2.5L - 1.0L; }

/* An undefined long double compared with a constant (fcomi/fucomi, then a jcc on the flags). */
__attribute__((noinline)) static void compared(const long double *undefined)
{
    long double v = scaled(*undefined);
    if (v > 3.0L) /* LINE_COMPARE */
        taken++;
}

/* An undefined value converted and stored through fstp (a double in memory), then tested in integer code. */
__attribute__((noinline)) static void stored(const long double *undefined)
{
    volatile double d = (double)(*undefined + 1.0L);
    uint64_t bits;
    double copy = d;
    memcpy(&bits, &copy, sizeof bits);
    if (bits >> 63) /* LINE_STORED */
        taken++;
}

/* The condition codes through fnstsw: a test of C0 is undefined, the TOP bits beside it are not; sahf puts them in the flags. */
__attribute__((noinline)) static void status_word(long double a, long double b)
{
    unsigned short sw;
    __asm__("fucom %%st(1)\n\tfnstsw %0" : "=a"(sw) : "t"(a), "u"(b));
    int two = ((sw >> 11) & 7) == 6; /* the TOP bits beside the condition codes: defined */
    if (sw & 0x0100) /* LINE_FNSTSW */
        taken++;
    if (two) puts("two on the stack");
    /* sahf and the branch in one asm statement (at -O0 a flag output would go through setb); fucompp
     * pops both operands, so the x87 stack is balanced on both paths. */
    __asm__ goto("fucompp\n\tfnstsw %%ax\n\tsahf\n\tjb %l[below]" : : "t"(a), "u"(b) : "st", "st(1)", "ax", "cc" : below); /* LINE_SAHF */
    return;
below:
    taken++;
}

/* An undefined long double deep in the x87 stack while defined values are computed and compared above it. */
__attribute__((noipa)) static void deep(const long double *undefined, const long double *defined)
{
    long double u = *undefined;
    __asm__ volatile("" : "+t"(u)); /* loaded first: the defined values below are pushed above it */
    long double a = defined[0], b = defined[1];
    long double s = a * b + a - b, t = a / b;
    if (s > t) /* defined: no report */
        puts("s is greater");
    if (u > s) /* LINE_DEEP */
        taken++;
}

int main(void)
{
    long double *undefined = malloc(2 * sizeof *undefined);
    compared(undefined);
    stored(undefined + 1);
    status_word(undefined[0], 2.0L);
    /* Defined values next to undefined padding (a long double fills 10 of its 16 bytes). */
    long double *defined = malloc(2 * sizeof *defined);
    defined[0] = 1.25L;
    defined[1] = -3.5L;
    int before = taken;
    long double sum = defined[0] * 4 + defined[1];
    if (sum == 1.5L) puts("sum is 1.5");
    status_word(defined[0], defined[1]);
    deep(undefined, defined);
    printf("taken %d\n", taken - before);
    printf("%.2Lf %.2Lf\n", defined[0], scaled(defined[1]));
    free(defined);
    free(undefined);
    puts("done");
    return 0;
}
