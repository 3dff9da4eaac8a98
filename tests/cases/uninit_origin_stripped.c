/* --track-origins=yes in a program without symbols (built twice: stripped, and with symbols to
 * find where owner lies): the undefined value comes from owner's frame, which the report can only
 * name by module+offset ("a stack frame at uninit_origin_stripped+0x...", a pc inside owner) as
 * Valgrind names "a stack allocation" at an address; it used to say only "a stack frame". */
#include <stdio.h>

static volatile int sink;

__attribute__((noinline)) int decide(const int *v)
{
    if (*v > 3) /* LINE_USE */
        sink++;
    return 0;
}

__attribute__((noinline)) int owner(void)
{
    int local[4];
    local[0] = 1;
    __asm__ volatile("" : : "r"(local) : "memory");
    return decide(&local[2]) + local[0];
}

int main(void)
{
    printf("%d\n", owner());
    return 0;
}
