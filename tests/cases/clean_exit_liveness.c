/* Blocks that end where a jump leads (a join) or with a direct jmp, whose checked load sits between
 * what sets the flags or a register and the code after the exit that reads them. memcheck looks
 * ahead of such exits to borrow registers and flags the code there overwrites first; the ones it
 * reads must reach it intact. Each probe computes the same thing natively in C; every pair must agree. */
#include <stdio.h>

static unsigned long values[64];

/* cmp sets CF; the load is checked; the join reads CF (setb) and rcx (add). */
static unsigned long join_reads_flags_and_rcx(unsigned long a, unsigned long b, unsigned long skip, const unsigned long *p)
{
    unsigned long out = 0, c = a ^ 0x5a;
    __asm__ volatile("test %[skip], %[skip]\n\t"
                     "jnz 1f\n\t"
                     "cmp %[b], %[a]\n\t"
                     "mov (%[p]), %[out]\n\t"
                     "1:\n\t"
                     "setb %b[out]\n\t"
                     "add %%rcx, %[out]\n\t"
                     : [out] "+&r"(out), "+c"(c)
                     : [a] "r"(a), [b] "r"(b), [skip] "r"(skip), [p] "r"(p)
                     : "cc", "memory");
    return out;
}

/* The same through a direct jmp: its target reads CF and rdx. */
static unsigned long jmp_target_reads_flags_and_rdx(unsigned long a, unsigned long b, const unsigned long *p)
{
    unsigned long out, d = b * 3;
    __asm__ volatile("cmp %[b], %[a]\n\t"
                     "mov (%[p]), %[out]\n\t"
                     "jmp 2f\n\t"
                     "ud2\n\t"
                     "2:\n\t"
                     "adc %%rdx, %[out]\n\t"
                     : [out] "=&r"(out), "+d"(d)
                     : [a] "r"(a), [b] "r"(b), [p] "r"(p)
                     : "cc", "memory");
    return out;
}

/* The join overwrites rax and the flags before reading them: free for the checks before it. */
static unsigned long join_overwrites(unsigned long a, unsigned long skip, const unsigned long *p)
{
    unsigned long out = 0;
    __asm__ volatile("test %[skip], %[skip]\n\t"
                     "jnz 3f\n\t"
                     "mov (%[p]), %[out]\n\t"
                     "mov 8(%[p]), %%rax\n\t"
                     "add %%rax, %[out]\n\t"
                     "3:\n\t"
                     "mov %[a], %%rax\n\t"
                     "cmp $100, %%rax\n\t"
                     "adc %%rax, %[out]\n\t"
                     : [out] "+&r"(out)
                     : [a] "r"(a), [skip] "r"(skip), [p] "r"(p)
                     : "rax", "cc", "memory");
    return out;
}

/* A join that reads only part of a register it then writes whole: the register stays live. */
static unsigned long join_reads_low_byte(unsigned long a, unsigned long skip, const unsigned long *p)
{
    unsigned long out = 0, s = a;
    __asm__ volatile("test %[skip], %[skip]\n\t"
                     "jnz 4f\n\t"
                     "mov (%[p]), %[out]\n\t"
                     "4:\n\t"
                     "movzbl %%sil, %%esi\n\t"
                     "add %%rsi, %[out]\n\t"
                     : [out] "+&r"(out), "+S"(s)
                     : [skip] "r"(skip), [p] "r"(p)
                     : "cc", "memory");
    return out;
}

int main(void)
{
    for (int i = 0; i < 64; i++) values[i] = (unsigned long)i * 2654435761u;
    int agree = 0, total = 0;
    for (int round = 0; round < 200; round++) {
        for (unsigned long i = 0; i < 63; i++) {
            unsigned long a = values[i] >> 3, b = values[(i * 7) & 63] >> 3, skip = (round + i) & 1;
            const unsigned long *p = &values[i];
            unsigned long c = a ^ 0x5a;
            unsigned long low = skip ? 0 : p[0];
            unsigned long expect1 = ((skip ? 0 : low) & ~0xffUL) + (skip ? 0 : (a < b)) + c;
            unsigned long expect2 = p[0] + b * 3 + (a < b);
            unsigned long expect3 = (skip ? 0 : p[0] + p[1]) + a + (a < 100);
            unsigned long expect4 = (skip ? 0 : p[0]) + (a & 0xff);
            agree += join_reads_flags_and_rcx(a, b, skip, p) == expect1;
            agree += jmp_target_reads_flags_and_rdx(a, b, p) == expect2;
            agree += join_overwrites(a, skip, p) == expect3;
            agree += join_reads_low_byte(a, skip, p) == expect4;
            total += 4;
        }
    }
    printf("exits agree %d of %d\n", agree, total);
    return 0;
}
