/* Client requests about ranges no program has: memcheck's own memory far above the guest's, the
 * whole address space, NULL with a length of -1, a MALLOCLIKE block wrapping past the end of the
 * address space. None may fault in memcheck or make it write shadow for terabytes; unmapped memory
 * is unaddressable to the checks, and the program goes on. */
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>

int main(void)
{
    char *host = (char *)0x7f0000000000UL;
    VALGRIND_MAKE_MEM_NOACCESS(host, 1UL << 40);
    VALGRIND_MAKE_MEM_UNDEFINED((void *)0, ~0UL);
    VALGRIND_MAKE_MEM_DEFINED((void *)0, ~0UL);
    VALGRIND_MAKE_MEM_DEFINED_IF_ADDRESSABLE((void *)4096, ~0UL - 4096);
    unsigned long unmapped = VALGRIND_CHECK_MEM_IS_ADDRESSABLE(host, 16); /* LINE_CHECK_HOST */
    printf("host memory unaddressable: %d\n", unmapped == (unsigned long)host);
    VALGRIND_MALLOCLIKE_BLOCK((void *)0xfffffffffffff000UL, 0x2000, 0, 0);
    VALGRIND_FREELIKE_BLOCK((void *)0xfffffffffffff000UL, 0); /* LINE_FREE_WILD */
    char *buf = malloc(32);
    buf[0] = 1;
    printf("heap still usable: %d, defined: %lu\n", buf[0], (unsigned long)VALGRIND_CHECK_MEM_IS_DEFINED(buf, 1));
    free(buf);
    return 0;
}
