/* threads N: a fixed amount of CPU-bound work (array updates and a checksum) split over N threads,
 * each on its own heap array. With threads that truly run in parallel, N=2 takes about half the
 * time of N=1 on two cores; an engine that serializes threads takes the same time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define TOTAL_ROUNDS 4800
#define ELEMENTS (1 << 16)

static int rounds_per_thread;

static void *work(void *arg)
{
    unsigned *a = malloc(ELEMENTS * sizeof *a);
    unsigned seed = (unsigned)(long)arg * 2654435761u + 1;
    for (int i = 0; i < ELEMENTS; i++) a[i] = seed = seed * 1103515245u + 12345u;
    unsigned long sum = 0;
    for (int r = 0; r < rounds_per_thread; r++)
        for (int i = 1; i < ELEMENTS; i++) {
            a[i] = (a[i] ^ (a[i - 1] >> 3)) * 2654435761u + (unsigned)r;
            sum += a[i] >> 7;
        }
    free(a);
    return (void *)sum;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    if (n < 1 || n > 64 || TOTAL_ROUNDS % n != 0) return 2;
    rounds_per_thread = TOTAL_ROUNDS / n;
    pthread_t t[64];
    for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, work, (void *)i);
    unsigned long total = 0;
    for (int i = 0; i < n; i++) {
        void *s;
        pthread_join(t[i], &s);
        total += (unsigned long)s;
    }
    /* The sum depends on how the work is split, so print only that it finished. */
    printf("threads %d done%s\n", n, total ? "" : " (zero)");
    return 0;
}
