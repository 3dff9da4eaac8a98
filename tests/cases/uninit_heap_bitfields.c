/* Bitfields in heap records (UninitializedHeapBitfieldsTests): bytes made partly defined by setting
 * some fields of a fresh malloc'd record, copied whole into a second array (8-byte loads and stores
 * carrying partly defined bytes), then read field by field. The shadow move routine keeps such
 * bytes' undefined bits in the heap's table (HeapVBits), so the copies keep exactly which bits are
 * undefined: the set fields read clean, the unset ones are reported at the marked lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
    unsigned kind : 3, flags : 5;     /* byte 0: kind set, flags never */
    unsigned char low : 2, high : 6;  /* byte 1: low set, high never */
    unsigned short tag;               /* set */
    int value;                        /* set */
};

#define N 20000

__attribute__((noinline)) static void fill(struct record *r, int n)
{
    for (int i = 0; i < n; i++) {
        r[i].kind = i & 7;
        r[i].low = 1;
        r[i].tag = (unsigned short)i;
        r[i].value = i;
    }
}

__attribute__((noinline)) static void copy(struct record *to, const struct record *from, int n)
{
    for (int i = 0; i < n; i++) to[i] = from[i];
}

int main(int argc, char **argv)
{
    (void)argv;
    struct record *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    fill(a, N);
    copy(b, a, N);
    long sum = 0;
    for (int i = 0; i < N; i++) sum += b[i].kind + b[i].low + b[i].tag + b[i].value;
    printf("sum %ld\n", sum);
    volatile int sink = 0;
    if (b[argc].flags) sink++; /* LINE_FLAGS */
    if (b[argc].high > 2) sink++; /* LINE_HIGH */
    if (b[argc].kind == 1 && b[argc].low == 1) puts("defined fields read clean");
    free(a);
    free(b);
    return sink;
}
