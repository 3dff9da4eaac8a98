/* child_heap_bug: the program the child-process tests run as a child. Prints its argv[0], the
 * CHILD_MARK variable, its AT_EXECFN, whether SIGUSR2 is blocked and SIGUSR1 ignored (what an exec
 * keeps) and its pid, overflows a heap block (natively harmless: malloc slack) and exits 3. With
 * the argument "clean" it does not overflow. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static __attribute__((noinline)) char *opaque(char *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

int main(int argc, char **argv)
{
    char *p = opaque(malloc(10));
    if (argc < 2 || strcmp(argv[1], "clean") != 0)
        p[10] = 1; /* LINE_CHILD_OVERFLOW */
    const char *mark = getenv("CHILD_MARK");
    sigset_t blocked;
    sigprocmask(SIG_BLOCK, NULL, &blocked);
    struct sigaction usr1;
    sigaction(SIGUSR1, NULL, &usr1);
    printf("child argv0=%s mark=%s execfn=%s usr2-blocked=%d usr1-ignored=%d argc=%d pid=%d\n", argv[0], mark ? mark : "(none)",
           (const char *)getauxval(AT_EXECFN), sigismember(&blocked, SIGUSR2), usr1.sa_handler == SIG_IGN, argc, (int)getpid());
    free(p);
    return 3;
}
