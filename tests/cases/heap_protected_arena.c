/* A program that takes access away from heap memory past its blocks (the unused end its next
 * blocks come from), then allocates on: the allocator's own writes there (a block's header,
 * calloc's zeros) fault, as they would natively, and the program's handler takes the SIGSEGV
 * (memcheck must not die of it). The handler exits: natively the allocator's lock is held then. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void on_segv(int sig)
{
    (void)sig;
    static const char message[] = "caught SIGSEGV\n";
    write(1, message, sizeof message - 1);
    _exit(3);
}

__attribute__((noinline)) static char *get(int cleared)
{
    return cleared ? calloc(1, 200) : malloc(200); /* LINE_GET */
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    char *first = malloc(200);
    char *ahead = (char *)(((uintptr_t)first + 4 * 4096) & ~(uintptr_t)4095);
    if (mprotect(ahead, 2 * 4096, PROT_NONE) != 0) { perror("mprotect"); return 1; }
    for (int i = 0; i < 400; i++) get(i % 2)[0] = 1;
    write(1, "no fault\n", 9);
    return 0;
}
