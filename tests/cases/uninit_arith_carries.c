/* Arithmetic on a byte loaded from fresh heap memory (bits 0..7 undefined, 8..63 defined 0), then a
 * branch on bit 20, which valgrind's memcheck decides as commented: the additions it interprets
 * exactly (add, inc, adc with a defined carry, xadd, lea's sums) and popcnt, shifts, rotates, not,
 * bswap, or and shrd (defined bits shifted in) leave bit 20 defined; sub, dec, neg, sbb, imul (Left: a
 * borrow or a product reaches every higher bit), bsf and shld (the undefined byte shifted onto bit 20)
 * make it undefined and are reported, at the lines valgrind names. */
#include <stdio.h>
#include <stdlib.h>

static volatile int sink;

#define OP(name, asmop) \
    __attribute__((noinline)) static void name(unsigned char *p) \
    { \
        unsigned long r; \
        __asm__ volatile("movzbl (%1), %k0\n\t" asmop : "=&r"(r) : "r"(p) : "cc", "rcx", "rdx"); \
        if (r & 0x100000) sink++; \
    }

OP(t_sub, "subq $1, %0\n\t") /* LINE_SUB */
OP(t_dec, "decq %0\n\t") /* LINE_DEC */
OP(t_neg, "negq %0\n\t") /* LINE_NEG */
OP(t_imul, "imulq $3, %0\n\t") /* LINE_IMUL */
OP(t_shl, "shlq $4, %0\n\t")
OP(t_shr, "shrq $4, %0\n\t")
OP(t_not, "notq %0\n\t")
OP(t_bsf, "bsfq %0, %0\n\t") /* LINE_BSF */
OP(t_popcnt, "popcntq %0, %0\n\t")
OP(t_lea_sum, "leaq (%0,%0,2), %0\n\t")
OP(t_or, "orq $0x100, %0\n\t")
OP(t_adc, "clc\n\tadcq $1, %0\n\t")
OP(t_sbb, "clc\n\tsbbq $1, %0\n\t") /* LINE_SBB */
OP(t_lea_disp, "leaq 7(%0), %0\n\t")
OP(t_xadd, "movq $1, %%rcx\n\txaddq %%rcx, %0\n\t")
OP(t_bswap, "bswapq %0\n\t")
OP(t_rol, "rolq $8, %0\n\t")
OP(t_shl_cl, "movb $3, %%cl\n\tshlq %%cl, %0\n\t")
OP(t_add, "addq $1, %0\n\t")
OP(t_inc, "incq %0\n\t")
OP(t_shrd, "movq $-1, %%rdx\n\tshrdq $4, %%rdx, %0\n\t")
OP(t_shld, "xorl %%edx, %%edx\n\tshldq $16, %%rdx, %0\n\t") /* LINE_SHLD */

int main(void)
{
    unsigned char *p = malloc(4);
    t_sub(p); t_dec(p); t_neg(p); t_imul(p); t_shl(p); t_shr(p); t_not(p); t_bsf(p); t_popcnt(p); t_lea_sum(p);
    t_or(p); t_adc(p); t_sbb(p); t_lea_disp(p); t_xadd(p); t_bswap(p); t_rol(p); t_shl_cl(p); t_add(p); t_inc(p);
    t_shrd(p); t_shld(p);
    free(p);
    puts("done");
    return 0;
}
