/* An AVX-512 loop (compiled with -O3 -mavx512f) over an array whose second half was never
   written: the sum is undefined and deciding on it is reported, where valgrind stops with SIGILL. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static int sum(const int *a, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) s += a[i];
    return s;
}

int main(void)
{
    int n = 256;
    int *a = malloc(n * sizeof *a);
    for (int i = 0; i < n / 2; i++) a[i] = i;
    int s = sum(a, n);
    if (s > 1000)   /* LINE_AVX512 */
        puts("large");
    else
        puts("small");
    free(a);
    return 0;
}
