/* exec_after_error: a heap overflow, then exec. execv of a path that does not exist (as execvp's
 * walk along PATH tries them) fails quietly; execv of ARGV[1] when given (an executable file the
 * kernel refuses: ENOEXEC) fails after memcheck announced it, and the program goes on to a second
 * overflow; then execv of /bin/true replaces the process. Natively harmless: malloc slack. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static __attribute__((noinline)) char *opaque(char *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

int main(int argc, char **argv)
{
    char *p = opaque(malloc(8));
    p[8] = 1; /* LINE_BEFORE_EXEC */
    char *true_argv[] = { "true", NULL };
    execv("/nonexistent/true", true_argv);
    printf("missing: failed\n");
    if (argc > 1) {
        char *refused_argv[] = { argv[1], NULL };
        execv(argv[1], refused_argv);
        printf("refused: failed\n");
        p[9] = 2; /* LINE_AFTER_FAILED_EXEC */
    }
    fflush(stdout);
    execv("/bin/true", true_argv);
    perror("execv /bin/true");
    return 1;
}
