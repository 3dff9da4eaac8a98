/* A program that maps over, unmaps and re-protects memory at a fixed address that, under
 * memcheck, holds the code cache (0x70000000): memcheck must refuse (EINVAL) rather than let the
 * guest destroy it, and the program goes on. Natively the calls may well succeed. */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
    void *where = (void *)0x70000000;
    void *p = mmap(where, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    int map_refused = p == MAP_FAILED && errno == EINVAL;
    int unmap_refused = munmap(where, 4096) != 0 && errno == EINVAL;
    int protect_refused = mprotect(where, 4096, PROT_NONE) != 0 && errno == EINVAL;
    printf("map %d unmap %d protect %d\n", map_refused, unmap_refused, protect_refused);
    return 0;
}
