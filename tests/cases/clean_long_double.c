/* Correct long double code (the x87 stack, every value defined) next to undefined padding (a long
 * double fills 10 of its 16 bytes): arithmetic, libm, conversions, compares, selects, qsort,
 * strtold and printf's %Lf/%Le/%La report nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct sample {
    long double value;
    char tag;
};

static int by_value(const void *a, const void *b)
{
    long double x = ((const struct sample *)a)->value, y = ((const struct sample *)b)->value;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static long double smaller(long double a, long double b) { return a < b ? a : b; }

int main(void)
{
    enum { N = 16 };
    struct sample *samples = malloc(N * sizeof *samples); /* padding after each value stays undefined */
    for (int i = 0; i < N; i++) {
        samples[i].value = sqrtl((long double)((i * 7) % N)) * (i % 2 ? -1.5L : 2.25L);
        samples[i].tag = (char)('a' + i);
    }
    qsort(samples, N, sizeof *samples, by_value);
    long double sum = 0, least = INFINITY;
    long long rounded = 0;
    for (int i = 0; i < N; i++) {
        sum += samples[i].value;
        least = smaller(least, samples[i].value);
        rounded += (long long)(samples[i].value * 100);
    }
    long double *copy = malloc(sizeof *copy);
    *copy = sum / N;
    long double e = expl(1.0L), l = logl(*copy < 0 ? -*copy : *copy + 1), p = powl(2.0L, 0.5L);
    int exponent;
    long double mantissa = frexpl(1234.5L, &exponent);
    long double parsed = strtold("3.141592653589793238", NULL);
    double narrowed = (double)(parsed * 2);
    int classes = isnan(sum) + isinf(least) + (fabsl(least) > 1000) + signbit(*copy);
    printf("first %c %.3Lf last %c %.3Lf\n", samples[0].tag, samples[0].value, samples[N - 1].tag, samples[N - 1].value);
    printf("sum %.6Lf least %.4Le rounded %lld mean %La\n", sum, least, rounded, *copy);
    printf("e %.15Lf log %.10Lf sqrt2 %.18Lf frexp %.6Lf %d\n", e, l, p, mantissa, exponent);
    printf("parsed %.18Lf narrowed %.15f classes %d fmod %.3Lf\n", parsed, narrowed, classes, fmodl(parsed * 10, 3));
    if (sum != sum || least > 0 || parsed < 3) puts("wrong");
    free(copy);
    free(samples);
    puts("done");
    return 0;
}
