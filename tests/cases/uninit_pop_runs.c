/* Undefined values in callee-saved registers across callees whose epilogues pop a run of
 * registers: one probe covers the whole run (its shadow tested in loads of 8, 4 and 2 bytes), so
 * an undefined slot deep in the run (the last pop: the second load) must still send the pops to
 * the propagating mode and give the register back its undefined value, as Valgrind reports it.
 * The callees are written in assembly so the register and the run's length are fixed: saves6
 * pops six registers (rbx last, at rsp+40: the second load), saves3 pops three (rbx last, at
 * rsp+16: a 2-byte load after a 4-byte one; its flags are dead, the others' live), saves1 pops one. An indirect jump ends the block
 * before the pops, so they run in a block of their own whose registers are all defined: the probe
 * alone finds the undefined slot. interleaved, whose pushes are interleaved with register moves,
 * must give rbx back defined. */
#include <stdio.h>
#include <stdlib.h>

void saves6(void);
void saves3(void);
void saves1(void);
void interleaved(void);

__asm__(
    ".text\n"
    ".globl saves6\n.type saves6,@function\n"
    "saves6:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  xor %ebx, %ebx\n  mov $1, %ebp\n  mov $2, %r12d\n  mov $3, %r13d\n  mov $4, %r14d\n  mov $5, %r15d\n"
    "  lea 1f(%rip), %rax\n  jmp *%rax\n1:\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
    ".size saves6, .-saves6\n"
    ".globl saves3\n.type saves3,@function\n"
    "saves3:\n"
    "  push %rbx\n  push %r12\n  push %r13\n"
    "  xor %ebx, %ebx\n  mov $2, %r12d\n  mov $3, %r13d\n"
    "  lea 1f(%rip), %rax\n  jmp *%rax\n1:\n"
    "  pop %r13\n  pop %r12\n  pop %rbx\n  xor %eax, %eax\n  ret\n"
    ".size saves3, .-saves3\n"
    ".globl saves1\n.type saves1,@function\n"
    "saves1:\n"
    "  push %rbx\n"
    "  xor %ebx, %ebx\n"
    "  lea 1f(%rip), %rax\n  jmp *%rax\n1:\n"
    "  pop %rbx\n  ret\n"
    ".size saves1, .-saves1\n"
    /* A prologue whose pushes gcc interleaves with register moves: one define covers every slot;
       a slot left as the call painted it (undefined) would bring rbx back undefined. */
    ".globl interleaved\n.type interleaved,@function\n"
    "interleaved:\n"
    "  push %r13\n  mov %rdi, %rax\n  push %r12\n  lea 1(%rax), %r12\n  push %rbp\n  mov $7, %ebp\n  push %rbx\n"
    "  xor %ebx, %ebx\n  mov $2, %r12d\n  mov $3, %r13d\n"
    "  lea 1f(%rip), %rax\n  jmp *%rax\n1:\n"
    "  pop %rbx\n  pop %rbp\n  pop %r12\n  pop %r13\n  ret\n"
    ".size interleaved, .-interleaved\n");

/* rbx = *p (undefined), call the callee, return rbx (undefined again only if the pops restored its shadow). */
#define ACROSS(callee, p)                                                                      \
    ({                                                                                         \
        long v_;                                                                               \
        __asm__ volatile("mov %1, %%rbx\n\tcall " #callee "\n\tmov %%rbx, %0"                   \
                         : "=r"(v_)                                                            \
                         : "m"(*(p))                                                           \
                         : "rbx", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", \
                           "memory", "cc");                                                    \
        v_;                                                                                    \
    })

int main(void)
{
    long *p = malloc(3 * sizeof(long));
    long a = ACROSS(saves6, &p[0]);
    if (a > 3) /* LINE_SIX */
        puts("six");
    long b = ACROSS(saves3, &p[1]);
    if (b > 3) /* LINE_THREE */
        puts("three");
    long c = ACROSS(saves1, &p[2]);
    if (c > 3) /* LINE_ONE */
        puts("one");
    long defined = 2;
    long d = ACROSS(interleaved, &defined);
    if (d > 3) /* defined: no report */
        puts("interleaved");
    free(p);
    puts("done");
    return 0;
}
