/* --track-origins=yes for a value made from a local of a function that has returned by the time
 * it is used: the report names that function's frame, as Valgrind names "a stack allocation" in
 * owner. The frame was looked up at the report, when owner's memory was below the stack pointer
 * ("a stack frame that had returned") or another call's frame (printf's). */
#include <stdio.h>

static volatile int sink;

__attribute__((noinline)) int decide(const int *v) { return *v > 3; }

__attribute__((noinline)) int owner(void)
{
    int local[4];
    local[0] = 1;
    __asm__ volatile("" : : "r"(local) : "memory");
    return decide(&local[2]) + local[0];
}

int main(void)
{
    int v = owner();
    if (v > 1) /* LINE_USE */
        sink++;
    puts("done");
    return 0;
}
