/* Globals read and written while a register holds an undefined value (the propagating mode's
 * inline moves): rip-relative scalars and, compiled -fno-pie, an indexed table ([disp32 + index*8],
 * no base register). What they hold is defined, so branches on it report nothing;
 * the undefined value, carried through the loop, reports where a branch depends on it. */
#include <stdio.h>
#include <stdlib.h>

long scale = 3;
long table[8] = {1, 2, 3, 4, 5, 6, 7, 8};
struct pair { long a, b; } pairs[2] = {{1, 2}, {3, 4}};

/* -fno-pie: mov table(,%rdi,8) ([disp32 + index*8], no base register). */
__attribute__((noinline)) static long at(long i)
{
    return table[i & 7];
}

__attribute__((noinline)) static long walk(long u, int n, long *out)
{
    long sum = 0;
    for (int i = 0; i < n; i++) {
        sum += table[i] * scale;
        if (table[i] > 4) sum++;
        pairs[i & 1].a = table[i];
        pairs[i & 1].b = sum;
        sum += at(i);
        u += i;
    }
    if (pairs[0].a == 7) sum += 100;
    *out = u;
    return sum;
}

int main(int argc, char **argv)
{
    (void)argv;
    long *p = malloc(2 * sizeof *p);
    long sum = walk(p[0], 7 + argc, &p[1]);
    if (sum == 248) puts("sum is 248");
    if (pairs[1].b == 140) puts("pairs[1].b is 140");
    if (p[1] == 3) /* LINE_UNDEFINED */
        puts("u is 3");
    free(p);
    puts("done");
    return 0;
}
