/* Undefined values used where they matter, each at a marked line: memcheck reports an
   UNINITIALIZED READ there and nowhere else (the copies on the way are not reported). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int sink;
static int table[256];

__attribute__((noinline)) static unsigned twice_plus_one(unsigned x) { return x * 2 + 1; }

static void heap_value_in_a_branch(void)
{
    int *p = malloc(4 * sizeof *p);   /* ALLOC_HEAP_BRANCH */
    p[0] = 1;
    if (p[2] == 42)   /* LINE_HEAP_BRANCH */
        sink++;
    free(p);
}

static void array_index(void)
{
    unsigned char *index = malloc(1);   /* ALLOC_INDEX */
    sink += table[*index];   /* LINE_INDEX */
    free(index);
}

static void through_arithmetic_shift_and_call(void)
{
    unsigned *v = malloc(2 * sizeof *v);   /* ALLOC_ARITH */
    v[0] = 3;
    unsigned x = (v[1] << 3) + v[0];
    x = twice_plus_one(x >> 1);
    if (x > 100)   /* LINE_ARITH */
        sink++;
    free(v);
}

static void double_compared(void)
{
    double *d = malloc(2 * sizeof *d);   /* ALLOC_DOUBLE */
    d[0] = 2.5;
    if (d[1] < d[0])   /* LINE_DOUBLE */
        sink++;
    free(d);
}

static void realloc_growth(void)
{
    char *s = malloc(4);
    memcpy(s, "abc", 4);
    s = realloc(s, 64);   /* ALLOC_REALLOC */
    if (s[1] != 'b')   /* kept bytes stay defined: no report */
        abort();
    if (s[40] == 'x')   /* LINE_REALLOC */
        sink++;
    free(s);
}

static void write_with_holes(void)
{
    char *buffer = malloc(10);   /* ALLOC_WRITE */
    memset(buffer, '-', 7);
    int fd = open("/dev/null", O_WRONLY);
    if (write(fd, buffer, 10) != 10)   /* LINE_WRITE */
        abort();
    close(fd);
    free(buffer);
}

static void calloc_is_defined(void)
{
    int *z = calloc(8, sizeof *z);
    for (int i = 0; i < 8; i++)
        if (z[i] != 0)
            abort();
    free(z);
}

int main(int argc, char **argv)
{
    (void)argv;
    table[argc & 0xff] = argc;   /* not all zero: the lookup stays a load */
    heap_value_in_a_branch();
    array_index();
    through_arithmetic_shift_and_call();
    double_compared();
    realloc_growth();
    write_with_holes();
    calloc_is_defined();
    puts("done");
    return 0;
}
