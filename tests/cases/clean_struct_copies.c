/* Clean: copies of structs with padding bytes (never written, so undefined) by assignment, by
 * memcpy, by value through calls, and as whole arrays on the heap and the stack. Copying undefined
 * padding is not an error; only the fields are ever used. Must report nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct padded {
    char tag;      /* 3 bytes of padding follow */
    int count;
    short small;   /* 6 bytes of padding follow */
    double value;
    char tail;     /* 7 bytes of padding follow */
};

struct outer {
    struct padded inner;
    char flag;     /* 7 bytes of padding follow */
    long total;
};

static __attribute__((noinline)) struct padded make(int i)
{
    struct padded p;
    p.tag = (char)('a' + i % 26);
    p.count = i;
    p.small = (short)(i * 3);
    p.value = i * 0.5;
    p.tail = (char)i;
    return p;
}

static __attribute__((noinline)) long fields(struct padded p)
{
    return p.tag + p.count + p.small + (long)p.value + p.tail;
}

static __attribute__((noinline)) void copy_array(struct padded *to, const struct padded *from, size_t n)
{
    for (size_t i = 0; i < n; i++) to[i] = from[i];
}

int main(void)
{
    enum { N = 100 };
    struct padded *heap = malloc(N * sizeof *heap);
    struct padded *assigned = malloc(N * sizeof *assigned);
    struct padded *copied = malloc(N * sizeof *copied);
    struct padded stack[N];
    for (int i = 0; i < N; i++) heap[i] = make(i);
    copy_array(assigned, heap, N);
    memcpy(copied, assigned, N * sizeof *copied);
    memcpy(stack, copied, sizeof stack);
    memmove(stack + 1, stack, (N - 1) * sizeof *stack);

    struct outer *outers = malloc(N * sizeof *outers);
    for (int i = 0; i < N; i++) {
        struct outer o;
        o.inner = stack[i];
        o.flag = (char)(i & 1);
        o.total = fields(o.inner);
        outers[i] = o;
    }
    struct outer *again = malloc(N * sizeof *again);
    memcpy(again, outers, N * sizeof *again);

    long sum = 0;
    for (int i = 0; i < N; i++) {
        struct padded p = again[i].inner;
        sum += fields(p) + again[i].flag + again[i].total + fields(copied[i]);
    }
    free(heap);
    free(assigned);
    free(copied);
    free(outers);
    free(again);
    printf("structs %d sum %ld\n", N, sum);
    return 0;
}
