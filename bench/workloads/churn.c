/* churn: many short-lived threads, created and joined in turn (as servers that spawn a thread per
 * request and parallel test runners make): each runs a short chain of multiplications and ends. Usage: churn [threads]
 * Prints the total, which every thread's share must reach. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *work(void *arg)
{
    unsigned long n = (unsigned long)arg, s = n;
    for (unsigned long i = 0; i < 100000; i++) s = s * 6364136223846793005UL + 1442695040888963407UL;   /* a chain: not vectorized */
    return (void *)(s >> 48);
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 2000;
    unsigned long total = 0;
    for (int i = 0; i < count; i += 2) {
        pthread_t t[2];
        for (int k = 0; k < 2; k++)
            if (pthread_create(&t[k], NULL, work, (void *)(unsigned long)(i + k)) != 0) { perror("pthread_create"); return 1; }
        for (int k = 0; k < 2; k++) {
            void *r;
            pthread_join(t[k], &r);
            total += (unsigned long)r;
        }
    }
    printf("threads %d total %lu\n", count, total);
    return 0;
}
