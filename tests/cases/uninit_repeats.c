/* The same undefined values used again and again, as GCC's sparse sets do on purpose: each site
   is one error whose count is every time it happened (Valgrind's "N errors from M contexts"),
   told apart by its stack as always. 100,000 branches on one undefined heap value; 100,000
   sparse-set membership tests on never-written sparse[] entries; an undefined table index
   100,000 times; one use reached from two callers (two errors, 50,000 each); one reached at
   recursion depths 2..8 (the frames that identify it are the same: one error, 7); a read beyond
   a block 100,000 times. */
#include <stdio.h>
#include <stdlib.h>

#define TIMES 100000

static volatile int sink;
int table[64]; /* written by main: not a known constant */

/* Volatile reads: the optimizer keeps every one of them in its loop. */
static int read_int(const int *p) { return *(const volatile int *)p; }

__attribute__((noinline)) static void branch_on_heap_value(const int *p)
{
    for (int i = 0; i < TIMES; i++)
        if (read_int(p) == 42) /* LINE_BRANCH */
            sink++;
}

/* Briggs and Torczon's sparse set: sparse[] is never initialized, the dense[] check makes any value safe. */
struct sparse_set
{
    unsigned *dense, *sparse;
    volatile unsigned members; /* not a known constant either */
};

__attribute__((noinline)) static int contains(const struct sparse_set *s, unsigned e)
{
    unsigned i = s->sparse[e];
    return i < s->members && s->dense[i] == e; /* LINE_SPARSE */
}

__attribute__((noinline)) static void sparse_set_lookups(void)
{
    struct sparse_set s = { calloc(TIMES, sizeof(unsigned)), malloc(TIMES * sizeof(unsigned)), 0 };
    for (unsigned e = 0; e < TIMES; e++)
        sink += contains(&s, e);
    free(s.dense);
    free(s.sparse);
}

__attribute__((noinline)) static void table_index(const int *p)
{
    for (int i = 0; i < TIMES; i++)
        sink += table[read_int(p) & 63]; /* LINE_INDEX */
}

__attribute__((noinline)) static void use(const int *p)
{
    if (read_int(p) > 7) /* LINE_TWO_CALLERS */
        sink++;
}

__attribute__((noinline)) static void first_caller(const int *p)
{
    for (int i = 0; i < TIMES / 2; i++)
        use(p); /* LINE_FIRST_CALLER */
}

__attribute__((noinline)) static void second_caller(const int *p)
{
    for (int i = TIMES / 2; i > 0; i--) /* not first_caller's code: never folded into it */
        use(p); /* LINE_SECOND_CALLER */
}

__attribute__((noinline)) static void recurse(const int *p, int depth)
{
    if (depth > 1)
    {
        recurse(p, depth - 1);
        sink++; /* no tail call: every depth keeps its frame */
        return;
    }
    if (read_int(p) < 0) /* LINE_RECURSION */
        sink++;
}

__attribute__((noinline)) static void beyond_the_block(const char *block)
{
    for (int i = 0; i < TIMES; i++)
        sink += ((const volatile char *)block)[16]; /* LINE_BEYOND */
}

int main(void)
{
    int *p = malloc(8 * sizeof *p);
    p[0] = 1;
    table[1] = 1;
    branch_on_heap_value(p + 1);
    sparse_set_lookups();
    table_index(p + 2);
    first_caller(p + 3);
    second_caller(p + 3);
    for (int depth = 2; depth <= 8; depth++)
        recurse(p + 4, depth);
    char *block = malloc(16);
    beyond_the_block(block);
    free(block);
    free(p);
    puts("done");
    return 0;
}
