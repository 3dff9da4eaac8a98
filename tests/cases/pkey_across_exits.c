/* Protection keys across exits to the dispatcher: the thread's PKRU (pkey_set, WRPKRU) is the
 * program's, and a system call between setting it and the access (an exit from the cache and a
 * re-entry) must leave it so: a write with the key's writes disabled faults, one after they are
 * enabled again does not. Prints the faults counted over three rounds (PkeyAcrossExits test); a
 * machine without protection keys prints "no pkeys". */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;

static void on_segv(int signal)
{
    (void)signal;
    siglongjmp(env, 1);
}

int main(void)
{
    int key = pkey_alloc(0, 0);
    if (key < 0) {
        puts("no pkeys");
        return 0;
    }
    volatile char *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || pkey_mprotect((void *)page, 4096, PROT_READ | PROT_WRITE, key) != 0) {
        puts("no pkeys");
        return 0;
    }
    signal(SIGSEGV, on_segv);
    int faults = 0;
    for (int round = 0; round < 3; round++) {
        pkey_set(key, PKEY_DISABLE_WRITE);
        getpid();
        if (sigsetjmp(env, 1) == 0) page[0] = 1;
        else faults++;
        pkey_set(key, 0);
        getpid();
        page[1] = 2;
    }
    printf("faults %d, page[1] %d\n", faults, page[1]);
    return 0;
}
