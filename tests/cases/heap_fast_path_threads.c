/* The heap's native fast path serves a single-threaded program's calls only: main allocates and
 * frees (served natively), then two threads allocate and free at the same time (the C# handlers
 * under the lock must take every call from then on, main's too), then one double free. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void churn(unsigned seed, int count)
{
    char *held[64] = {0};
    for (int i = 0; i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        int k = (seed >> 8) & 63;
        free(held[k]);
        size_t size = 1 + (seed >> 16) % 200;
        held[k] = malloc(size);
        memset(held[k], k, size);
    }
    for (int k = 0; k < 64; k++) free(held[k]);
}

static void *worker(void *arg)
{
    churn((unsigned)(size_t)arg, 100000);
    return NULL;
}

int main(void)
{
    churn(1, 20000);
    pthread_t threads[2];
    for (size_t t = 0; t < 2; t++) pthread_create(&threads[t], NULL, worker, (void *)(t + 7));
    churn(3, 20000);
    for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
    char *volatile p = malloc(16);
    free(p);
    free(p); /* LINE_DOUBLE */
    puts("done");
    return 0;
}
