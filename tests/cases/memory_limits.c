/* A program that limits its own address space (RLIMIT_AS, before its first malloc: a test of its
 * out-of-memory paths) runs under memcheck as natively: memcheck's reservations are not the
 * program's, so the limit is the program's view (read back as set), the heap refuses what would
 * pass it (a 400 MB request; a loop allocating until malloc fails stops), and memcheck's own late
 * mappings (a library loaded for the first callstack) still succeed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit limit = { 300UL << 20, 300UL << 20 }, back;
    int set = setrlimit(RLIMIT_AS, &limit);
    getrlimit(RLIMIT_AS, &back);
    size_t small = 0;
    for (int i = 0; i < 20; i++) {
        char *p = malloc(1 << 20);
        if (!p) break;
        memset(p, 1, 1 << 20);
        small += 1 << 20;
    }
    char *big = malloc(400UL << 20);
    size_t total = small;
    for (;;) {
        char *p = malloc(8 << 20);
        if (!p) break;
        total += 8 << 20;
        if (total > (1UL << 30)) break;   /* natively the limit stops it long before */
    }
    printf("setrlimit %d, read back %lu MB\n", set, (unsigned long)(back.rlim_cur >> 20));
    printf("20 x 1 MB: %zu MB\n", small >> 20);
    printf("400 MB: %s\n", big ? "allocated" : "refused");
    printf("until malloc fails: %s\n", total > (1UL << 30) ? "past 1 GB" : total > (200UL << 20) ? "stopped past 200 MB" : "stopped early");
    return 0;
}
