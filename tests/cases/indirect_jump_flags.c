/* Flags across indirect jumps: each target reads flags set before the jmp (hand-written code may;
 * the engine's lookup overwrites them and must give them back). A cmp, then a jmp through a
 * register to one of two targets: one reads CF, ZF, SF and OF at once, the other runs inc (CF
 * untouched) and then reads CF. Run many times with varied operands; prints a checksum and the
 * flag counts (IndirectJumpFlags test). */
#include <stdio.h>

static unsigned long all_flags(long a, long b, int second)
{
    unsigned long out;
    __asm__ volatile(
        "lea 1f(%%rip), %%rdx\n\t"
        "lea 2f(%%rip), %%rcx\n\t"
        "test %3, %3\n\t"
        "cmovnz %%rcx, %%rdx\n\t"
        "cmp %2, %1\n\t"
        "jmp *%%rdx\n\t"
        "1:\n\t"
        "setb %%al\n\t"
        "sete %%cl\n\t"
        "sets %%dl\n\t"
        "seto %%r8b\n\t"
        "movzbl %%al, %%eax\n\t"
        "movzbl %%cl, %%ecx\n\t"
        "movzbl %%dl, %%edx\n\t"
        "movzbl %%r8b, %%r8d\n\t"
        "shl $1, %%rcx\n\t"
        "shl $2, %%rdx\n\t"
        "shl $3, %%r8\n\t"
        "or %%rcx, %%rax\n\t"
        "or %%rdx, %%rax\n\t"
        "or %%r8, %%rax\n\t"
        "jmp 3f\n\t"
        "2:\n\t"
        "inc %%r9\n\t"           /* writes every status flag but CF */
        "setb %%al\n\t"
        "movzbl %%al, %%eax\n\t"
        "or $16, %%rax\n\t"
        "3:\n\t"
        : "=&a"(out)
        : "r"(a), "r"(b), "r"((long)second)
        : "rcx", "rdx", "r8", "r9", "cc");
    return out;
}

int main(void)
{
    static const long values[] = { 0, 1, -1, 2, 0x7fffffffffffffffL, (long)0x8000000000000000UL, 12345, -98765 };
    unsigned long sum = 0, counts[32] = { 0 };
    for (int round = 0; round < 2000; round++)
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) {
                unsigned long f = all_flags(values[i], values[j], (round + i + j) & 1);
                counts[f & 31]++;
                sum = sum * 31 + f;
            }
    printf("sum %lu\n", sum);
    for (int k = 0; k < 32; k++)
        if (counts[k]) printf("flags %2d: %lu\n", k, counts[k]);
    return 0;
}
