/* Signals sent to a forked child are the child's: the parent kills one child with SIGTERM and
 * sends another SIGUSR1, which that child handles; then it reports how each ended and exits 0.
 * Each child says "ready" through a pipe before it waits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int signal)
{
    (void)signal;
    _exit(3);
}

static pid_t start_child(int handle_usr1)
{
    int ready[2];
    if (pipe(ready) != 0) exit(1);
    pid_t child = fork();
    if (child < 0) exit(1);
    if (child == 0) {
        if (handle_usr1) signal(SIGUSR1, on_usr1);
        if (write(ready[1], "r", 1) != 1) _exit(1);
        for (;;) pause();
    }
    char byte;
    if (read(ready[0], &byte, 1) != 1) exit(1);
    close(ready[0]);
    close(ready[1]);
    return child;
}

static void report(const char *name, pid_t child)
{
    int status;
    if (waitpid(child, &status, 0) != child) exit(1);
    if (WIFSIGNALED(status)) printf("%s: killed by signal %d\n", name, WTERMSIG(status));
    else printf("%s: exit %d\n", name, WEXITSTATUS(status));
}

int main(void)
{
    pid_t terminated = start_child(0);
    kill(terminated, SIGTERM);
    report("terminated", terminated);
    pid_t handler = start_child(1);
    kill(handler, SIGUSR1);
    report("handler", handler);
    printf("parent done\n");
    return 0;
}
