/* enter/leave frames (hand-written or old compilers' code): the frame enter opens is undefined, the
 * rbp it pushed is not (leave pops it back); a read of a local the frame never wrote is reported. */
#include <stdio.h>
static volatile int sink;
__attribute__((noinline)) int with_enter(int n)
{
    int r;
    __asm__ volatile("enter $32, $0\n\t"
                     "movl %1, -4(%%rbp)\n\t"
                     "movl -4(%%rbp), %0\n\t"
                     "leave" : "=r"(r) : "r"(n) : "memory");
    return r;
}
__attribute__((noinline)) int enter_stale(void)
{
    int r;
    __asm__ volatile("enter $32, $0\n\t"
                     "movl -12(%%rbp), %0\n\t"
                     "leave" : "=r"(r) : : "memory");
    return r;
}
int main(void)
{
    int local[4] = {1, 2, 3, 4};
    for (int i = 0; i < 3; i++)
        if (with_enter(local[i]) > 2) sink++;   /* clean */
    if (local[3] > 3) sink++;                    /* clean: rbp-relative after the enter frames */
    if (enter_stale() > 5) sink++;               /* LINE_STALE */
    puts("done");
    return 0;
}
