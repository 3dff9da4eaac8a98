/* entry_profile_loop: a loop whose fragments end in known ways, for MEMCHECK_ENTRY_PROFILE's
 * counts: each of its 100000 iterations ends a fragment at a direct call, one at the callee's ret
 * and one at a jmp back to the loop's head. Prints the callee's count. */
#include <stdio.h>

long count_calls(long n);

__asm__(
    ".text\n"
    ".globl count_calls\n"
    "count_calls:\n"
    "  xor %eax, %eax\n"
    "1:\n"
    "  call profile_leaf\n"
    "  dec %rdi\n"
    "  jz 2f\n"
    "  jmp 1b\n"
    "2:\n"
    "  ret\n"
    "profile_leaf:\n"
    "  add $1, %rax\n"
    "  ret\n");

int main(void)
{
    printf("%ld calls\n", count_calls(100000));
    return 0;
}
