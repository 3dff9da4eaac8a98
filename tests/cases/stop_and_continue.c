/* A program that stops itself (raise(SIGSTOP), as a test of job control or a process waiting for
   a debugger does) is stopped, not killed: its parent sees it stopped, continues it with SIGCONT,
   and it goes on, its report still to come (the undefined byte read after it). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        char *fresh = malloc(4);
        if (fresh[1] == 'x') puts("x");                     /* LINE_AFTER_CONTINUE */
        printf("child continued\n");
        free(fresh);
        return 0;
    }
    int status;
    if (waitpid(child, &status, WUNTRACED) != child) return 1;
    printf("stopped %d by %d\n", WIFSTOPPED(status), WIFSTOPPED(status) ? WSTOPSIG(status) : 0);
    fflush(stdout);
    kill(child, SIGCONT);
    if (waitpid(child, &status, 0) != child) return 1;
    printf("exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
    return 0;
}
