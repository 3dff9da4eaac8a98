/* threads_heap_overflow: 8 worker threads malloc and free in a loop; worker 5 writes one byte past
 * a 10-byte block once. memcheck must report that write (marked below), on worker 5's thread (its tid is
 * printed), created at main's pthread_create, and nothing else. Natively harmless (malloc slack). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 8

static __attribute__((noinline)) volatile char *opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 2000; i++) {
        volatile char *p = opaque(malloc(16 + (i % 64)));
        memset((char *)p, (int)id, 16);
        if (id == 5 && i == 1000) {
            printf("overflow in tid %d\n", (int)gettid());
            fflush(stdout);
            volatile char *q = opaque(malloc(10)); /* LINE_ALLOC */
            q[10] = 1; /* LINE_OVERFLOW */
            free((void *)q);
        }
        free((void *)p);
    }
    return (void *)id;
}

int main(void)
{
    pthread_t threads[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        if (pthread_create(&threads[i], NULL, worker, (void *)i) != 0) /* LINE_CREATE */
            return 1;
    long sum = 0;
    for (int i = 0; i < WORKERS; i++) {
        void *result;
        pthread_join(threads[i], &result);
        sum += (long)result;
    }
    printf("joined %d workers, sum %ld\n", WORKERS, sum);
    return 0;
}
