/* fork_errors: a heap overflow before the fork, one in the child and one in the parent after it.
 * Both processes report under memcheck; every line from the fork on must name its process's pid.
 * The child prints its own pid, the parent prints the child's pid after waiting for it, so the
 * test can match report lines to processes. Natively harmless: the accesses hit malloc slack. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((noinline)) volatile char *opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

int main(void)
{
    volatile char *p = opaque(malloc(10)); /* LINE_ALLOC */
    p[10] = 1; /* LINE_BEFORE_FORK */
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        p[11] = 2; /* LINE_CHILD */
        printf("child %d\n", (int)getpid());
        free((void *)p);
        return 0;
    }
    int status = 0;
    waitpid(child, &status, 0);
    p[12] = 3; /* LINE_PARENT */
    printf("parent %d waited for %d: exited=%d status=%d\n", (int)getpid(), (int)child, WIFEXITED(status), WEXITSTATUS(status));
    free((void *)p);
    return 0;
}
