/* Faults the program provokes and handles on purpose: a write barrier (pages made read-only, a
 * SIGSEGV handler that makes the written page writable again and lets the write retry, as a
 * collector's card marking does) is not an error, as under Valgrind, which tracks no write
 * permission; a null write the same handler catches is (the marked line). A read past the end of
 * a mapped file (SIGBUS, as a database mapping a file another process truncated meets it) that
 * the program recovers from is its business too, as under Valgrind. Prints the barrier's faults,
 * the pages it marked and the SIGBUS recovered (HandledProtectionFaults test). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES 8
static char *heap;
static int dirty[PAGES], barrier_faults;
static sigjmp_buf recover;

static void on_segv(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    char *at = info->si_addr;
    if (at >= heap && at < heap + PAGES * 4096) {
        long page = (at - heap) / 4096;
        dirty[page] = 1;
        barrier_faults++;
        mprotect(heap + page * 4096, 4096, PROT_READ | PROT_WRITE);
        return;   /* the write runs again, now allowed */
    }
    siglongjmp(recover, 1);
}

int main(void)
{
    heap = mmap(0, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, 0);
    for (int round = 0; round < 3; round++) {
        mprotect(heap, PAGES * 4096, PROT_READ);   /* start of a collection cycle: track writes */
        memset(dirty, 0, sizeof dirty);
        for (int i = 0; i < PAGES; i += 3) heap[i * 4096 + round] = (char)(i + 1);
        int marked = 0;
        for (int i = 0; i < PAGES; i++) marked += dirty[i];
        printf("round %d: %d pages marked\n", round, marked);
    }
    volatile char *null = 0;
    if (sigsetjmp(recover, 1) == 0) *null = 1; /* LINE_NULL_WRITE */
    printf("barrier faults %d, null write recovered\n", barrier_faults);

    /* A file of one page mapped over two: the second page is past its end. */
    char path[] = "/tmp/handled_faultsXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 4096) != 0) return 1;
    unlink(path);
    volatile char *file = mmap(0, 2 * 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (file == MAP_FAILED) return 1;
    action.sa_handler = 0;
    action.sa_sigaction = on_segv;   /* not a barrier page: it jumps back */
    sigaction(SIGBUS, &action, 0);
    int recovered = 0;
    if (sigsetjmp(recover, 1) == 0) printf("past the end: %d\n", file[4096 + 8]);
    else recovered = 1;
    printf("first page %d, bus error recovered %d\n", file[8], recovered);
    return 0;
}
