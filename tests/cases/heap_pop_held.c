/* A pop from memory that is not addressable, inside a held-scratch run: rsp is moved onto the end of
 * a 16-byte heap block, then (after an indirect jump, so a block of its own) a checked load with every
 * register live and the flags dead holds a register for its check, and the pop that follows reads the
 * block's redzone. In the plain mode pops are not checked for addressability themselves: the pop probe
 * finds the slot's shadow not zero and re-runs the pop in the propagating mode, whose checked pop
 * reports it (as Valgrind does). The probe was skipped while a register was held: nothing was reported. */
#include <stdio.h>
#include <stdlib.h>

long defined_word = 5;

/* Pops one word at p + 16 with rsp moved there, returns it. */
long pop_past(long *p);
__asm__(".text\n"
        ".globl pop_past\n.type pop_past,@function\n"
        "pop_past:\n"
        "  push %rbx\n  push %rbp\n  mov %rsp, %rbp\n"
        "  lea 16(%rdi), %rsp\n"
        "  lea defined_word(%rip), %rdi\n"
        "  lea 1f(%rip), %rax\n  jmp *%rax\n1:\n"
        "  xor %eax, %eax\n"
        "  cmp %rbx, (%rdi,%rax)\n"     /* no dead register, flags dead: a register is held */
        "  pop %rbx\n"                  /* the redzone */
        "  mov %rbp, %rsp\n  mov %rbx, %rax\n  pop %rbp\n  pop %rbx\n  ret\n"
        ".size pop_past, .-pop_past\n");

int main(void)
{
    long *p = malloc(2 * sizeof(long)); /* LINE_ALLOC */
    p[0] = p[1] = 1;
    long v = pop_past(p); /* LINE_POP */
    free(p);
    printf("popped %s\n", v == 0x7fffffff ? "?" : "a word");
    return 0;
}
