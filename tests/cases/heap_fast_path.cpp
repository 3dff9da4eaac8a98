/* The heap's common calls, repeated from the same call sites so the native fast path serves them
 * (a warm walk memo, free lists with blocks), then errors on blocks it handed out and freed: a
 * double free, a mismatched delete, a use after free, an overflow into a recycled block's redzone,
 * an uninitialized read, malloc_usable_size, and leaks. Then realloc: grown and shrunk with half of
 * each buffer written (the kept bytes keep their definedness), a use of the old pointer, an
 * undefined byte carried over. Then calloc: cleared blocks read (no report), one read past its end,
 * one freed twice. Every report must be what the C# handlers
 * alone give (HeapFastPathTests runs it both ways). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *volatile sink;

__attribute__((noinline)) static char *make(size_t size)
{
    return (char *)malloc(size); /* LINE_MAKE */
}

__attribute__((noinline)) static void drop(char *p)
{
    free(p); /* LINE_DROP */
}

__attribute__((noinline)) static int *cleared(size_t count)
{
    return (int *)calloc(count, sizeof(int)); /* LINE_CLEARED */
}

__attribute__((noinline)) static char *grow(char *p, size_t size)
{
    return (char *)realloc(p, size); /* LINE_GROW */
}

int main(void)
{
    unsigned long sum = 0;
    /* Warm up: fill the free lists and the memo. */
    for (int round = 0; round < 3; round++) {
        char *blocks[2000];
        for (int i = 0; i < 2000; i++) {
            blocks[i] = make(1 + (i * 37) % 300);
            memset(blocks[i], i, 1 + (i * 37) % 300);
        }
        for (int i = 0; i < 2000; i++) {
            sum += (unsigned char)blocks[i][0] + malloc_usable_size(blocks[i]);
            drop(blocks[i]);
        }
        int *objects[500];
        for (int i = 0; i < 500; i++) objects[i] = new int[1 + i % 40];
        for (int i = 0; i < 500; i++) delete[] objects[i];
    }
    for (int round = 0; round < 3; round++) {
        char *buffers[300];
        for (int i = 0; i < 300; i++) {
            buffers[i] = grow(NULL, 8 + i % 50);
            memset(buffers[i], i, 4 + i % 5);
        }
        for (int i = 0; i < 300; i++) buffers[i] = grow(buffers[i], 16 + (i * 7) % 400);
        for (int i = 0; i < 300; i++) {
            sum += (unsigned char)buffers[i][2];
            buffers[i] = grow(buffers[i], 1 + i % 30);
        }
        for (int i = 0; i < 300; i++) drop(buffers[i]);
    }
    char *a = make(40);
    drop(a);
    drop(a); /* LINE_DOUBLE */
    int *one = new int(7);
    delete[] one; /* LINE_MISMATCH */
    char *b = make(24);
    drop(b);
    sum += b[3]; /* LINE_AFTER_FREE */
    char *c = make(100);
    c[100 + 8] = 1; /* LINE_OVERFLOW */
    char *d = make(32);
    if (d[5] == 42) puts("unlikely"); /* LINE_UNDEFINED */
    sum += malloc_usable_size(d) + malloc_usable_size(a) + malloc_usable_size(c + 16);
    for (int i = 0; i < 10; i++) sink = make(64 + i); /* LINE_LEAK */
    sink = 0;
    for (int i = 0; i < 3; i++) {   /* the first time through its walks are not remembered yet */
        char *e = grow(NULL, 20);
        e[0] = 1;
        char *f = grow(e, 60);
        sum += e[0]; /* LINE_AFTER_REALLOC */
        if (f[10] == 3 || f[0] != 1) puts("unlikely"); /* LINE_REALLOC_UNDEFINED */
        drop(f);
    }
    for (int round = 0; round < 3; round++) {
        int *zeros[400];
        for (int i = 0; i < 400; i++) zeros[i] = cleared(1 + i % 70);
        for (int i = 0; i < 400; i++) {
            for (int j = 0; j < 1 + i % 70; j++)
                if (zeros[i][j] != 0) puts("not cleared");
            zeros[i][i % 70] = i;
        }
        for (int i = 0; i < 400; i++) drop((char *)zeros[i]);
    }
    int *z = cleared(9);
    sum += z[9]; /* LINE_CLEARED_PAST */
    drop((char *)z);
    drop((char *)z); /* LINE_CLEARED_DOUBLE */
    printf("sum %lu\n", sum);
    drop(c);
    drop(d);
    return 0;
}
