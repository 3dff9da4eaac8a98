/* A program that protects part of its own heap, then reallocs a block there: the copy faults, as
 * it would natively, and the program's handler takes the SIGSEGV (memcheck must not die of it). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf back;
static void on_segv(int sig) { (void)sig; siglongjmp(back, 1); }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    /* Warm the allocator's common paths first. */
    for (int i = 0; i < 1000; i++) free(realloc(malloc(40), 80));
    char *p = aligned_alloc(4096, 8192);
    memset(p, 'x', 8192);
    char *q = malloc(64);
    memset(q, 'y', 64);
    if (mprotect(p, 4096, PROT_NONE) != 0) { perror("mprotect"); return 1; }
    if (sigsetjmp(back, 1) == 0) {
        char *r = realloc(p, 16384); /* LINE_REALLOC */
        printf("realloc returned %s\n", r ? "a block" : "NULL");
    } else {
        printf("caught SIGSEGV in realloc\n");
    }
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
    q = realloc(q, 128);   /* the heap still works */
    printf("q[0]=%c\n", q[0]);
    free(q);
    free(p);
    return 0;
}
