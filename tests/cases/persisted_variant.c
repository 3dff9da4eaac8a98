/* Persisted translations: two builds of this file (VALUE 1 and 2) differ only in one immediate, so
 * their code lies at the same addresses with the same lengths. Run from one path one after the
 * other, the second must run its own code, not the first build's persisted translation of it. A
 * page of generated code, different from run to run (argv[1]), checks the same for code that no
 * file holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef VALUE
#define VALUE 1
#endif

__attribute__((noinline)) static int built_value(int x)
{
    return x * 3 + VALUE;
}

typedef int (*fn)(void);

int main(int argc, char **argv)
{
    int generated = argc > 1 ? atoi(argv[1]) : 0;
    unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    page[0] = 0xb8;                   /* mov eax, imm32 */
    memcpy(page + 1, &generated, 4);
    page[5] = 0xc3;                   /* ret */
    int sum = 0;
    for (int i = 0; i < 1000; i++) sum += built_value(i) - 3 * i;
    printf("built %d generated %d\n", sum / 1000, ((fn)page)());
    return 0;
}
