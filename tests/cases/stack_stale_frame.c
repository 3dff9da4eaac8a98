/* A read through a pointer into a frame that has returned. 100 nested calls, each with a small
 * frame (at -O2 a `sub rsp, imm` prologue and `add rsp, imm` epilogue, the adjustments memcheck
 * tracks inline), leave the deepest local ~6 KB below main's stack pointer: natively still mapped
 * and readable, under memcheck beyond the top of the stack. */
#include <stdio.h>

static volatile char *saved;

static __attribute__((noinline)) int dive(int depth)
{
    volatile char local[40];
    local[0] = (char)depth;
    local[39] = (char)(depth + 1);
    if (depth == 0) {
        saved = &local[0];
        return local[39];
    }
    return dive(depth - 1) + local[0] + local[39];
}

int main(void)
{
    int sum = dive(100);
    char stale = *saved; /* LINE_STALE */
    printf("sum %d stale %d\n", sum, stale);
    return 0;
}
