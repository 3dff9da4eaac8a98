/* A pop inside a held-scratch run: the pop block's first instruction is a checked load where every
 * register is live and the flags are dead, so its check holds a register (rdx: nothing up to the ret
 * uses it) in gs:[HeldScratch]; pops do not set rsp explicitly, so the run (and the hold) goes on
 * through them. The pop probe must still test the popped slots: the callee pushed rbx while rbx was
 * undefined (the propagating mode), so rbx must come back undefined, as Valgrind reports it.
 * The probe's exit to the propagating fragment is linked (no dispatcher): it must put the held
 * register's guest value (rdx = 42, which the caller checks) back itself. held1 pops one register, held3 three (rbx last; its load uses the
 * other two, so none of them is dead before it). */
#include <stdio.h>
#include <stdlib.h>

long defined_word = 5;
long seen_rdx; /* the held register's guest value (42) as the caller sees it */

void held1(void);
void held3(void);

__asm__(
    ".text\n"
    ".globl held1\n.type held1,@function\n"
    "held1:\n"
    "  push %rbx\n"
    "  xor %ebx, %ebx\n"
    "  lea defined_word(%rip), %rdi\n  mov $42, %edx\n"
    "  lea 1f(%rip), %rax\n  jmp *%rax\n1:\n"
    "  cmp %rbx, (%rdi)\n"          /* checked load: no dead register, flags dead: a register is held */
    "  pop %rbx\n  ret\n"
    ".size held1, .-held1\n"
    ".globl held3\n.type held3,@function\n"
    "held3:\n"
    "  push %rbx\n  push %r12\n  push %r13\n"
    "  xor %ebx, %ebx\n  lea defined_word(%rip), %r12\n  xor %r13d, %r13d\n  mov $42, %edx\n"
    "  lea 1f(%rip), %rax\n  jmp *%rax\n1:\n"
    "  cmp %rbx, (%r12,%r13)\n"     /* every popped register used: none dead, a register is held */
    "  pop %r13\n  pop %r12\n  pop %rbx\n  ret\n"
    ".size held3, .-held3\n");

/* rbx = *p (undefined), call the callee, return rbx (undefined again only if the pops restored its shadow). */
#define ACROSS(callee, p)                                                                      \
    ({                                                                                         \
        long v_;                                                                               \
        __asm__ volatile("mov %1, %%rbx\n\tcall " #callee "\n\tmov %%rdx, seen_rdx(%%rip)\n\tmov %%rbx, %0"                 \
                         : "=r"(v_)                                                            \
                         : "m"(*(p))                                                           \
                         : "rbx", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", \
                           "memory", "cc");                                                    \
        v_;                                                                                    \
    })

int main(void)
{
    long *p = malloc(2 * sizeof(long));
    long a = ACROSS(held1, &p[0]);
    if (a > 3) /* LINE_ONE */
        puts("one");
    if (seen_rdx != 42)
        puts("held register lost");
    long b = ACROSS(held3, &p[1]);
    if (b > 3) /* LINE_THREE */
        puts("three");
    if (seen_rdx != 42)
        puts("held register lost");
    free(p);
    puts("done");
    return 0;
}
