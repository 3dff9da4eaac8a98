/* glib's g_signal_newv at -O2: an argument register computed, then (every register live, the flags
 * dead) a frame store whose check holds rsi, which nothing up to the call touches, in gs:[HeldScratch];
 * then a partly undefined bitfield word of a fresh malloc'd node is read (its check's scratch is rdx,
 * dead there), merged and stored back, and the call takes rsi. The undefined read leaves mode 0 for
 * the propagating mode at that load: rsi must hold its guest value there, not the check's shadow
 * index of the frame slot (gio died allocating 17592118934344 bytes). Nothing is reported: the
 * undefined bits are only copied. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline, used)) long received(void *node, long bytes)
{
    (void)node;
    return bytes;
}

/* long pass_size(unsigned *node, long n): calls received(node, n * 8) after the sequence above. */
long pass_size(unsigned *node, long n);
__asm__(".text\n"
        ".globl pass_size\n"
        ".type pass_size, @function\n"
        "pass_size:\n"
        "    push %rbx\n    push %rbp\n    push %r12\n    push %r13\n    push %r14\n    push %r15\n"
        "    sub $24, %rsp\n"
        "    mov %rsi, %rcx\n"
        "    mov %ecx, %edx\n"
        "    mov %ecx, %eax\n"
        "    mov %ecx, %esi\n"
        "    shl $10, %eax\n"
        "    shl $3, %rsi\n"              /* the argument: n * 8 */
        "    mov %r8, 8(%rsp)\n"          /* frame store: no dead register, flags dead: a register is held */
        "    add %edx, %edx\n"
        "    and $0x3fc00, %eax\n"
        "    and $0x3fe, %edx\n"
        "    or %edx, %eax\n"
        "    mov (%rdi), %edx\n"          /* the partly undefined word: mode 0 -> propagating */
        "    and $0xfff80000, %edx\n"
        "    or %edx, %eax\n"
        "    mov %eax, (%rdi)\n"
        "    call received\n"
        "    add $24, %rsp\n"
        "    pop %r15\n    pop %r14\n    pop %r13\n    pop %r12\n    pop %rbp\n    pop %rbx\n"
        "    ret\n"
        ".size pass_size, .-pass_size\n");

int main(void)
{
    long total = 0;
    for (long n = 1; n <= 3; n++)
    {
        unsigned *node = malloc(16);
        ((unsigned char *)node)[0] = 0x5a;   /* the word's low byte defined, the rest not */
        total += pass_size(node, n);
        free(node);
    }
    printf("bytes passed: %ld\n", total);    /* 8 + 16 + 24 */
    return 0;
}
