/* Conversions and one-input ops, scalar and packed, as valgrind's memcheck decides them. Scalar ones
 * write only the low element of an xmm register (or a general register from the low element), so
 * the rest of a register whose bytes were never set does not make their result undefined; packed
 * ones convert element by element. Each case starts from xmm0-2 loaded from a fresh heap block (all
 * undefined) and branches only on what the conversion produced: the eleven with a defined input are
 * clean; an undefined integer converted, an undefined low element truncated and an undefined
 * double narrowed are reported at their branches. libclrjit's `cvtsi2ss rax, xmm0; ...; ucomiss;
 * jb` was a false report. */
#include <stdio.h>
#include <stdlib.h>
static volatile int sink;
#define LOAD "movups (%1), %%xmm0\n\tmovups (%1), %%xmm1\n\tmovups (%1), %%xmm2\n\t"
/* Branch on the low float of xmm0 against that of xmm1. */
#define FLOAT_CASE(name, body)                                                                      \
    __attribute__((noinline)) static void name(void *junk, long a)                                  \
    {                                                                                               \
        int below;                                                                                  \
        __asm__ volatile(LOAD body "ucomiss %%xmm1, %%xmm0\n\tsetb %b0\n\tmovzbl %b0, %0"           \
                         : "=&r"(below) : "r"(junk), "r"(a) : "xmm0", "xmm1", "xmm2", "cc");       \
        if (below) sink++;                                                                          \
    }
FLOAT_CASE(si2ss64, "cvtsi2ss %2, %%xmm0\n\tcvtsi2ss %2, %%xmm1\n\t")
FLOAT_CASE(si2sd32, "cvtsi2sdl %k2, %%xmm0\n\tcvtsi2sdl %k2, %%xmm1\n\tcvtsd2ss %%xmm0, %%xmm0\n\tcvtsd2ss %%xmm1, %%xmm1\n\t")
FLOAT_CASE(vsi2ss, "vcvtsi2ss %2, %%xmm2, %%xmm0\n\tvcvtsi2ss %2, %%xmm2, %%xmm1\n\t")
FLOAT_CASE(ss2sd_sqrt, "cvtsi2ss %2, %%xmm2\n\tcvtss2sd %%xmm2, %%xmm0\n\tsqrtsd %%xmm0, %%xmm1\n\t"
                       "cvtsd2ss %%xmm0, %%xmm0\n\tcvtsd2ss %%xmm1, %%xmm1\n\t")
FLOAT_CASE(round_ss, "cvtsi2ss %2, %%xmm2\n\troundss $0, %%xmm2, %%xmm0\n\troundss $1, %%xmm2, %%xmm1\n\t")
/* Packed: the converted elements' own inputs only. */
FLOAT_CASE(pd2ps, "cvtsi2sd %2, %%xmm2\n\tcvtpd2ps %%xmm2, %%xmm0\n\tcvtpd2ps %%xmm2, %%xmm1\n\t")
FLOAT_CASE(ps2pd, "cvtsi2ss %2, %%xmm2\n\tcvtps2pd %%xmm2, %%xmm0\n\tcvtps2pd %%xmm2, %%xmm1\n\t"
                  "cvtsd2ss %%xmm0, %%xmm0\n\tcvtsd2ss %%xmm1, %%xmm1\n\t")
FLOAT_CASE(dq2pd, "pinsrd $0, %k2, %%xmm2\n\tcvtdq2pd %%xmm2, %%xmm0\n\tcvtdq2pd %%xmm2, %%xmm1\n\t"
                  "cvtsd2ss %%xmm0, %%xmm0\n\tcvtsd2ss %%xmm1, %%xmm1\n\t")
FLOAT_CASE(dq2ps, "pinsrd $0, %k2, %%xmm2\n\tcvtdq2ps %%xmm2, %%xmm0\n\tcvtdq2ps %%xmm2, %%xmm1\n\t")
FLOAT_CASE(round_rcp_ps, "cvtsi2ss %2, %%xmm2\n\troundps $0, %%xmm2, %%xmm0\n\trcpps %%xmm2, %%xmm1\n\t")
/* An undefined double narrowed: reported. */
__attribute__((noinline)) static void undefined_double(void *junk)
{
    int below;
    __asm__ volatile(LOAD "cvtpd2ps %%xmm2, %%xmm0\n\txorps %%xmm1, %%xmm1\n\tucomiss %%xmm1, %%xmm0\n\tsetb %b0\n\tmovzbl %b0, %0"
                     : "=&r"(below) : "r"(junk) : "xmm0", "xmm1", "xmm2", "cc");
    if (below) sink++; /* LINE_UNDEFINED_DOUBLE */
}
/* The low element converted to an integer, then a branch on it. */
#define INT_CASE(name, body)                                                                        \
    __attribute__((noinline)) static long name(void *junk, long a)                                  \
    {                                                                                               \
        long r;                                                                                     \
        __asm__ volatile(LOAD body : "=&r"(r) : "r"(junk), "r"(a) : "xmm0", "xmm1", "xmm2");        \
        return r;                                                                                   \
    }
INT_CASE(sd2si, "cvtsi2sd %2, %%xmm0\n\tcvttsd2si %%xmm0, %0\n\t")
INT_CASE(undefined_low, "cvttsd2si %%xmm0, %0\n\t")
/* An undefined integer converted: the float is undefined. */
__attribute__((noinline)) static void undefined_integer(void *junk, long *undefined)
{
    int below;
    __asm__ volatile(LOAD "cvtsi2ssq (%2), %%xmm0\n\txorps %%xmm1, %%xmm1\n\tucomiss %%xmm1, %%xmm0\n\tsetb %b0\n\tmovzbl %b0, %0"
                     : "=&r"(below) : "r"(junk), "r"(undefined) : "xmm0", "xmm1", "xmm2", "cc");
    if (below) sink++; /* LINE_UNDEFINED_INTEGER */
}
int main(void)
{
    void *junk = malloc(64);
    long *undefined = malloc(sizeof *undefined);
    si2ss64(junk, 5);
    si2sd32(junk, 5);
    vsi2ss(junk, 5);
    ss2sd_sqrt(junk, 5);
    round_ss(junk, 5);
    pd2ps(junk, 5);
    ps2pd(junk, 5);
    dq2pd(junk, 5);
    dq2ps(junk, 5);
    round_rcp_ps(junk, 5);
    undefined_double(junk);
    if (sd2si(junk, 5) > 3) sink++;
    undefined_integer(junk, undefined);
    if (undefined_low(junk, 5) > 3) sink++; /* LINE_UNDEFINED_LOW */
    free(undefined);
    free(junk);
    puts("done");
    return 0;
}
