/* Code that changes under the translator: a page of generated code is run, unmapped and mapped
 * again with different code at the same address; then rewritten in place through mprotect
 * RW -> RX. Each call must run the code that is there now, not a stale translation. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn)(void);

static void emit_return(unsigned char *p, int value)
{
    p[0] = 0xb8;                      /* mov eax, imm32 */
    memcpy(p + 1, &value, 4);
    p[5] = 0xc3;                      /* ret */
}

int main(void)
{
    unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    emit_return(page, 1);
    printf("first: %d\n", ((fn)page)());

    munmap(page, 4096);
    unsigned char *again = mmap(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (again != page) return 2;
    emit_return(page, 2);
    printf("after remap: %d\n", ((fn)page)());

    for (int i = 3; i <= 5; i++) {
        mprotect(page, 4096, PROT_READ | PROT_WRITE);
        emit_return(page, i);
        mprotect(page, 4096, PROT_READ | PROT_EXEC);
        printf("after rewrite: %d\n", ((fn)page)());
    }
    return 0;
}
