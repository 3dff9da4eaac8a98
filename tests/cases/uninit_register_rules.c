/* The propagating mode's register-only rules done in generated code (ShadowRegisterRoutine), bit by
   bit as Valgrind's V bits: a bitfield byte read from a fresh heap block, its undefined bits cleared
   by and / set by or, then a branch on defined bits (no report) or on undefined ones (reported);
   test and cmp against an immediate or a register (exact: a defined differing bit decides); add's carries (exact);
   moves between registers (general and vector) and the zero idioms. Each step loops so the
   propagating mode runs it many times: one error per site, counted. */
#include <stdio.h>
#include <stdlib.h>

#define TIMES 1000

static volatile int sink;

__attribute__((noinline)) static void and_or_bitfield(unsigned char *p)
{
    for (int i = 0; i < TIMES; i++)
    {
        unsigned r;
        /* The low 5 bits defined (and clears them, or sets 0x13), the top 3 undefined. */
        __asm__ volatile("movzbl (%1), %0\n\t"
                         "andl $0xffffffe0, %0\n\t"
                         "orl $0x13, %0\n\t"
                         : "=&r"(r) : "r"(p + i) : "cc");
        if (r & 0x10) /* no report: bit 4 is a defined 1 */
            sink++;
        if ((r & 0x3) == 3) /* no report */
            sink++;
        if (r & 0x80) /* LINE_AND_OR_HIGH */
            sink++;
    }
}

__attribute__((noinline)) static void test_and_cmp(unsigned char *p)
{
    for (int i = 0; i < TIMES; i++)
    {
        unsigned char z, c, u;
        /* and with a defined 1 bit: ZF defined ("not zero"); cmp whose operands differ in a defined bit: ZF defined. */
        __asm__ volatile("movzbl (%3), %%eax\n\t"
                         "orl $0x100, %%eax\n\t"
                         "testl $0x100, %%eax\n\t"
                         "setz %0\n\t"
                         "cmpl $0x7, %%eax\n\t"
                         "sete %1\n\t"
                         "cmpl $0x107, %%eax\n\t"
                         "sete %2\n\t"                 /* undefined: they differ only in undefined bits */
                         : "=&q"(z), "=&q"(c), "=&q"(u) : "r"(p + i) : "eax", "cc");
        /* setcc is no use (Valgrind's 1Uto8): each byte's bit 0 is as defined as ZF was; branching on it is. */
        if (z) /* no report */
            sink++;
        if (c) /* no report */
            sink++;
        if (u) /* LINE_CMP_UNDEFINED */
            sink++;
    }
}

__attribute__((noinline)) static void add_smears(unsigned char *p)
{
    for (int i = 0; i < TIMES; i++)
    {
        unsigned long r;
        /* Bits 8.. defined zero, bits 0..7 undefined: add's carry can reach bit 8 (0xff + 1), not
           bit 12 (Valgrind's exact add: the smallest and largest sums differ in bits 0..8 only). */
        __asm__ volatile("movzbl (%1), %k0\n\t"
                         "addq $1, %0\n\t"
                         : "=&r"(r) : "r"(p + i) : "cc");
        if (r & 0x1000) /* no report */
            sink++;
        if (r & 0x100) /* LINE_ADD */
            sink++;
        __asm__ volatile("movzbl (%1), %k0\n\t"   /* the same by inc (C#): bit 12 defined */
                         "incq %0\n\t"
                         : "=&r"(r) : "r"(p + i) : "cc");
        if (r & 0x1000) /* no report */
            sink++;
    }
}

__attribute__((noinline)) static void register_moves(unsigned char *p)
{
    for (int i = 0; i < TIMES; i++)
    {
        unsigned long r, s;
        __asm__ volatile("movzbl (%2), %%ecx\n\t"
                         "andl $0xf0, %%ecx\n\t"      /* low nibble defined zero */
                         "movq %%rcx, %%xmm1\n\t"
                         "movdqa %%xmm1, %%xmm2\n\t"
                         "movq %%xmm2, %%rdx\n\t"
                         "movl %%edx, %k0\n\t"
                         "movq %%rdx, %1\n\t"
                         "xorl %%edx, %%edx\n\t"     /* zero idiom: defined */
                         "pxor %%xmm1, %%xmm1\n\t"
                         : "=&r"(r), "=&r"(s) : "r"(p + i) : "rcx", "rdx", "xmm1", "xmm2", "cc");
        if (r & 0xf) /* no report */
            sink++;
        if (s & 0x80) /* LINE_MOVED */
            sink++;
    }
}

__attribute__((noinline)) static void register_pairs(unsigned char *p)
{
    for (int i = 0; i < TIMES; i++)
    {
        unsigned char z, e, u;
        unsigned r;
        /* eax: bits 0..7 undefined, bit 8 a defined 1, the rest defined 0; the other operands defined. */
        __asm__ volatile("movzbl (%4), %%eax\n\t"
                         "orl $0x100, %%eax\n\t"
                         "movl $0x100, %%edx\n\t"
                         "testl %%edx, %%eax\n\t"     /* a defined 1 in both: ZF defined */
                         "setz %0\n\t"
                         "movl $0x200, %%edx\n\t"
                         "cmpl %%edx, %%eax\n\t"      /* they differ in defined bit 9: ZF defined */
                         "sete %1\n\t"
                         "movl $0x1ff, %%ecx\n\t"
                         "cmpl %%ecx, %%eax\n\t"      /* they differ only in undefined bits */
                         "sete %2\n\t"
                         "movl $0xff, %%edx\n\t"
                         "orl %%edx, %%eax\n\t"       /* the low byte defined 1s: all defined */
                         "addl %%edx, %%eax\n\t"
                         "movl %%eax, %3\n\t"
                         : "=m"(z), "=m"(e), "=m"(u), "=&r"(r) : "r"(p + i) : "eax", "ecx", "edx", "cc");
        if (z) /* no report */
            sink++;
        if (e) /* no report */
            sink++;
        if (u) /* LINE_PAIRS */
            sink++;
        if (r & 0x10000) /* no report: every bit defined */
            sink++;
    }
}

/* Branch-free conditions (CoreCLR's `a != K || b == 0`: setne; sete; or; jne, b meaningful only when
   a is K): a set or a conditional move on undefined flags is no use; its result carries the
   undefinedness (setcc bit 0, cmovcc the whole destination) to where it decides something. */
__attribute__((noinline)) static void branch_free_conditions(unsigned char *p)
{
    for (int i = 0; i < TIMES; i++)
    {
        unsigned char a, b;
        unsigned r, carry;
        __asm__ volatile("movzbl (%2), %%eax\n\t"   /* undefined */
                         "movl $3, %%ecx\n\t"
                         "cmpl $0x12, %%ecx\n\t"
                         "setne %0\n\t"              /* a defined 1 */
                         "testl %%eax, %%eax\n\t"
                         "sete %1\n\t"               /* bit 0 undefined */
                         "orb %0, %1\n\t"            /* the defined 1 decides */
                         : "=&q"(a), "=&q"(b) : "r"(p + i) : "eax", "ecx", "cc");
        if (b) /* no report */
            sink++;
        __asm__ volatile("movzbl (%1), %%eax\n\t"
                         "movl $1, %0\n\t"
                         "movl $2, %%ecx\n\t"
                         "testl %%eax, %%eax\n\t"
                         "cmovel %%ecx, %0\n\t"      /* an undefined condition: all of r undefined */
                         : "=&r"(r) : "r"(p + i) : "eax", "ecx", "cc");
        if (r & 0x100) /* LINE_CMOV */
            sink++;
        __asm__ volatile("movzbl (%1), %%eax\n\t"
                         "cmpl $7, %%eax\n\t"       /* an undefined carry */
                         "movl $0, %0\n\t"
                         "adcl $0, %0\n\t"           /* 0 + 0 + CF: bit 0 undefined, the rest a defined 0 */
                         : "=&r"(carry) : "r"(p + i) : "eax", "cc");
        if (carry & 0x10) /* no report */
            sink++;
        if (carry & 1) /* LINE_ADC */
            sink++;
    }
}

/* A bit index or shift count in a register counts modulo the operand's width: only its low bits
   matter (CoreCLR's JIT loads a byte-wide type as 32 bits beside undefined bitfields, then bt). */
__attribute__((noinline)) static void index_low_bits(unsigned char *p)
{
    for (int i = 0; i < TIMES; i++)
    {
        unsigned char cf, undefined_cf;
        unsigned shifted;
        __asm__ volatile("movzbl (%3), %%eax\n\t"
                         "shll $8, %%eax\n\t"        /* bits 8..15 undefined, the low byte a defined 0 */
                         "orl $5, %%eax\n\t"         /* index 5 */
                         "movl $0x20, %%ecx\n\t"
                         "btq %%rax, %%rcx\n\t"      /* bit 5: CF defined */
                         "setc %0\n\t"
                         "movl %%eax, %%ecx\n\t"
                         "movl $1, %1\n\t"
                         "shll %%cl, %1\n\t"         /* by cl & 31 = 5: defined */
                         "movzbl (%3), %%eax\n\t"
                         "movl $0x20, %%ecx\n\t"
                         "btq %%rax, %%rcx\n\t"      /* by an undefined index */
                         "setc %2\n\t"
                         : "=&q"(cf), "=&r"(shifted), "=&q"(undefined_cf) : "r"(p + i) : "eax", "ecx", "cc");
        if (cf) /* no report */
            sink++;
        if (shifted & 0x20) /* no report */
            sink++;
        if (undefined_cf) /* LINE_BT */
            sink++;
    }
}

/* A bitfield whose other bits were never written: testing the defined bit is propagated at the
   mode switch and the thread stays in the plain mode; testing the undefined bits is reported. */
struct flag_byte
{
    unsigned char set : 1, never : 7;
};

__attribute__((noinline)) static void bitfield_tests(struct flag_byte *f)
{
    for (int i = 0; i < TIMES; i++)
        f[i].set = i & 1;
    for (int i = 0; i < TIMES; i++)
        if (f[i].set) /* no report: only the defined bit is tested */
            sink++;
    for (int i = 0; i < TIMES; i++)
        if (f[i].never) /* LINE_NEVER */
            sink++;
}

int main(void)
{
    unsigned char *p = malloc(TIMES);
    and_or_bitfield(p);
    test_and_cmp(p);
    add_smears(p);
    register_moves(p);
    register_pairs(p);
    branch_free_conditions(p);
    index_low_bits(p);
    struct flag_byte *f = malloc(TIMES * sizeof *f);
    bitfield_tests(f);
    free(f);
    free(p);
    puts("done");
    return 0;
}
