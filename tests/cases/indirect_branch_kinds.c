/* Known numbers of the three kinds of indirect branch memcheck --stats splits its indirect-branch
 * lookups by: N calls through a function pointer (an indirect call and a ret each), and N switch
 * dispatches through a jump table (a direct call, an indirect jmp and a ret each). */
#include <stdio.h>
#include <stdlib.h>

#define N 100000

__attribute__((noinline)) static long twice(long x) { return 2 * x + 1; }
__attribute__((noinline)) static long thrice(long x) { return 3 * x - 1; }

long (*volatile through)(long) = twice;

__attribute__((noinline)) static long dispatch(unsigned op, long x)
{
    switch (op) {   /* dense cases of different code: a jump table */
    case 0: return x + 3;
    case 1: return x * 5;
    case 2: return x - 7;
    case 3: return x ^ 11;
    case 4: return x << 2;
    case 5: return x >> 1;
    case 6: return ~x;
    case 7: return x * x;
    default: return x;
    }
}

int main(int argc, char **argv)
{
    unsigned step = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    long sum = 0;
    for (long i = 0; i < N; i++) {
        if (i == N / 2) through = thrice;
        sum += through(i);
    }
    for (long i = 0; i < N; i++) sum += dispatch((unsigned)(i * step) & 7, i);
    printf("sum %ld\n", sum);
    return 0;
}
