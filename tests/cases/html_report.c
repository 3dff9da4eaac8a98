/* html_report: one of each error a reader of memcheck's --html page meets, at marked lines.
 * A heap overflow repeated three times (the first error: one site, count 3), a use after free (the
 * block's allocation and free stacks), a double free, an uninitialized condition on a second
 * thread (thread notes), and leaks from three sites of different sizes (the page lists them
 * largest first): 40 blocks of 100 bytes, one of 3000, one of 24. Under memcheck the program
 * prints "done" and exits 0 (the double free is reported and skipped; natively glibc would
 * abort there). The overflow's line carries HTML's special characters, which the page must show as
 * written. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *keep[64];
volatile int sink;

static __attribute__((noinline)) volatile char *opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

static __attribute__((noinline)) void fill(volatile char *buf, int n)
{
    for (int i = 0; i < n; i++) buf[i] = 'a' + i % 26;
    buf[n] = '<'; /* LINE_OVERFLOW: one byte past the <block> & beyond */
}

static __attribute__((noinline)) int stale_read(void)
{
    volatile char *p = opaque(malloc(32)); /* LINE_UAF_ALLOC */
    p[0] = 7;
    free((void *)p); /* LINE_UAF_FREE */
    return p[4]; /* LINE_UAF_READ */
}

static __attribute__((noinline)) void *leak_small(int i)
{
    return malloc(100 + 0 * i); /* LINE_LEAK_SMALL */
}

static __attribute__((noinline)) void *worker(void *arg)
{
    int *values = malloc(4 * sizeof(int)); /* LINE_UNINIT_ALLOC */
    int sum = 0;
    if (values[(long)arg] > 3) /* LINE_UNINIT */
        sum = 1;
    free(values);
    return (void *)(long)sum;
}

int main(void)
{
    for (int round = 0; round < 3; round++) {
        volatile char *buf = opaque(malloc(10)); /* LINE_OVERFLOW_ALLOC */
        fill(buf, 10);
        free((void *)buf);
    }
    int stale = stale_read();

    char *twice = malloc(48);
    free(twice);
    free((char *)opaque(twice)); /* LINE_DOUBLE_FREE */

    pthread_t thread;
    void *result;
    pthread_create(&thread, NULL, worker, (void *)1); /* LINE_THREAD */
    pthread_join(thread, &result);

    for (int i = 0; i < 40; i++) opaque(leak_small(i));
    char *big = malloc(3000); /* LINE_LEAK_BIG */
    memset(big, 1, 3000);
    char *tiny = malloc(24); /* LINE_LEAK_TINY */
    keep[0] = big;
    keep[1] = tiny;
    keep[0] = keep[1] = NULL;
    opaque(big);
    opaque(tiny);
    sink = stale + (int)(long)result; /* values natively undefined: kept, not printed */
    printf("done\n");
    return 0;
}
