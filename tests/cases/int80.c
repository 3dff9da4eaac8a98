/* The 32-bit system call gate from 64-bit code: not something the engine translates. memcheck must
 * stop with one line naming the pc and the bytes (cd 80), after the program's earlier output. */
#include <stdio.h>

int main(void)
{
    puts("before int 0x80");
    fflush(stdout);
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");   /* getpid (i386 number) */
    printf("after: %ld\n", ret);
    return 0;
}
