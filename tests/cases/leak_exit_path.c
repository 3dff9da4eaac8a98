/* Pointers at exit that Valgrind would not count. lose() leaves 64 pointers to lost blocks in its
 * frame, dead once it returns; exit() and the functions it calls lay their own frames over that
 * region, and the slots they never write still hold those pointers. Valgrind sees only written
 * stack words and reports all 64 blocks lost ("return" mode: main returns, and
 * __libc_start_call_main calls exit). In "rbx" mode main calls exit() with the only pointer to
 * one more block in rbx, a callee-saved register: that block is still held (Valgrind: reachable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void lose(int n)
{
    char *blocks[64];
    for (int i = 0; i < n; i++) {
        blocks[i] = malloc(40); /* LINE_LOST */
        memset(blocks[i], i, 40);
    }
    printf("%d\n", blocks[n - 1][0]);
}

int main(int argc, char **argv)
{
    lose(64);
    if (argc > 1 && strcmp(argv[1], "rbx") == 0) {
        char *held = malloc(24);
        held[0] = 1;
        __asm__ volatile("mov %0, %%rbx\n\txor %%edi, %%edi\n\tcall exit" : : "r"(held) : "rbx", "rdi", "memory");
    }
    return 0;
}
