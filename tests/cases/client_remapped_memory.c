/* Memory a program unmaps and maps again starts defined, whatever its bytes were marked before
 * (Valgrind makes unmapped memory inaccessible and a new mapping defined). The old mapping's bytes
 * are marked undefined with a client request, then it is unmapped and mapped again at the same
 * address; branches on the fresh bytes, at both ends and in the middle, must not be reported. */
#include <stdio.h>
#include <sys/mman.h>
#include <valgrind/memcheck.h>

int main(void)
{
    size_t size = 64 << 10;
    char *old = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (old == MAP_FAILED) return 1;
    old[0] = 1;
    VALGRIND_MAKE_MEM_UNDEFINED(old, size);
    munmap(old, size);
    char *fresh = mmap(old, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (fresh != old) return 2;
    int zeros = 0;
    size_t offsets[] = { 0, 100, 4096, 40000, size - 100, size - 1 };
    for (int i = 0; i < 6; i++)
        if (fresh[offsets[i]] == 0) zeros++;
    printf("%d fresh bytes read zero\n", zeros);
    return 0;
}
