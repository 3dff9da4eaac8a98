/* Code written into a page made executable with pkey_mprotect (V8 protects its code space so):
 * memcheck must count the page executable as it does after mprotect. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    static const unsigned char code[] = { 0xb8, 42, 0, 0, 0, 0xc3 };   /* mov eax, 42; ret */
    unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(page, code, sizeof code);
    if (syscall(SYS_pkey_mprotect, page, 4096, PROT_READ | PROT_EXEC, -1) != 0) {
        printf("pkey_mprotect: errno %d\n", errno);
        return 0;
    }
    int (*function)(void) = (int (*)(void))page;
    printf("returned %d\n", function());
    return 0;
}
