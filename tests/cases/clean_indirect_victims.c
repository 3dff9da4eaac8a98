/* Clean: returns and an indirect jmp whose two targets share a slot of the indirect-branch table
 * (IndirectBranchTable: slot = (t + (t >> 16)) mod 2^16, so t and t + 0xffff collide), called
 * alternately: one of each pair is always in the victim table, whose hit (in the shared miss
 * routine) enters the fragment through its indirect entry, which gives back rax and rcx; the
 * flag-free (jmp) path gives back rdx too, and the jmp's flags must survive. Checks that rax, rcx,
 * rdx and the flags arrive as the program left them. Must report nothing. */
#include <stdio.h>

long two_returns(long x);
long two_jumps(long x);

__asm__(
    ".text\n"
    ".p2align 12\n"
    "victim_leaf:\n"                      /* rax = 3x + 1, rcx = x ^ 0x5a5a, rdx = x + 7 */
    "  lea 1(%rdi,%rdi,2), %rax\n"
    "  mov %rdi, %rcx\n"
    "  xor $0x5a5a, %rcx\n"
    "  lea 7(%rdi), %rdx\n"
    "  ret\n"
    ".globl two_returns\n"
    "two_returns:\n"
    "  push %rbx\n"
    "  push %r12\n"
    "  mov %rdi, %r12\n"
    "  call victim_leaf\n"
    "1:\n"                                /* return target A */
    "  mov %rax, %rbx\n"
    "  imul $3, %rcx, %rcx\n"
    "  add %rcx, %rbx\n"
    "  imul $5, %rdx, %rdx\n"
    "  add %rdx, %rbx\n"
    "  lea 1(%r12), %rdi\n"
    "  .byte 0xe9\n"
    "  .long 2f - . - 4\n"
    "  .org 1b + 0xffff - 5, 0xcc\n"
    "2:\n"
    "  call victim_leaf\n"
    "3:\n"                                /* return target B = A + 0xffff: the same slot */
    "  add %rax, %rbx\n"
    "  imul $7, %rcx, %rcx\n"
    "  add %rcx, %rbx\n"
    "  imul $11, %rdx, %rdx\n"
    "  add %rdx, %rbx\n"
    "  mov %rbx, %rax\n"
    "  pop %r12\n"
    "  pop %rbx\n"
    "  ret\n"
    ".globl two_jumps\n"
    "two_jumps:\n"                        /* x odd: target B, else A; rdx and the flags of cmp live across */
    "  lea 4f(%rip), %r8\n"
    "  lea 5f(%rip), %r9\n"
    "  test $1, %dil\n"
    "  cmovnz %r9, %r8\n"
    "  lea 13(%rdi,%rdi,2), %rdx\n"
    "  mov %rdi, %rcx\n"
    "  not %rcx\n"
    "  cmp $500, %rdi\n"
    "  jmp *%r8\n"
    "4:\n"
    "  setb %al\n"
    "  movzbl %al, %eax\n"
    "  lea (%rax,%rdx,2), %rax\n"
    "  add %rcx, %rax\n"
    "  ret\n"
    "  .org 4b + 0xffff, 0xcc\n"
    "5:\n"
    "  seta %al\n"
    "  movzbl %al, %eax\n"
    "  lea 1(%rax,%rdx,4), %rax\n"
    "  sub %rcx, %rax\n"
    "  ret\n");

int main(void)
{
    long returns = 0, jumps = 0;
    for (long i = 0; i < 1000; i++) {
        returns += two_returns(i);
        jumps += two_jumps(i);
    }
    printf("returns %ld jumps %ld\n", returns, jumps);
    return 0;
}
