/* A program that limits its own address space (RLIMIT_AS, before its first malloc: a test of its
 * out-of-memory paths) runs under memcheck as natively: memcheck's reservations are not the
 * program's, so the limit is the program's view (read back as set), the heap refuses what would
 * pass it (a 400 MB request; a loop allocating until malloc fails stops), its own mmap and brk are
 * held to it (a 400 MB mmap, 16 MB mmaps until refused, a 400 MB sbrk: under --tool none glibc's
 * malloc gets its memory so), and memcheck's own late mappings (a library loaded for the first
 * callstack) still succeed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

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
    void *mapped = mmap(NULL, 400UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 400 MB: %s\n", mapped == MAP_FAILED ? "refused" : "mapped");
    size_t maps = 0;
    for (;;) {
        void *p = mmap(NULL, 16 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
        maps++;
        if (maps > 64) break;   /* 1 GB: natively the limit stops it long before */
    }
    printf("16 MB maps until refused: %s\n", maps > 64 ? "past 1 GB" : "stopped");
    printf("sbrk 400 MB: %s\n", sbrk(400 << 20) == (void *)-1 ? "refused" : "moved");
    return 0;
}
