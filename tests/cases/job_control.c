/* Job control under memcheck as natively: a child in a process group of its own (so the kernel
 * does not discard its stop signals as an orphaned group's) has handlers for SIGTSTP and SIGCONT.
 * The parent sends SIGTSTP: the child's handler runs, puts the default action back and raises it,
 * as shells and editors do; the parent sees it stopped by SIGTSTP, continues it, the child's
 * SIGCONT handler runs and the child exits. Then a child with the default action is stopped by a
 * SIGTTOU from outside and continued. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t tstp_seen, cont_seen;

static void on_tstp(int signal) { (void)signal; tstp_seen = 1; }
static void on_cont(int signal) { (void)signal; cont_seen = 1; }

static pid_t start_child(int handlers, int *ready)
{
    int fds[2];
    if (pipe(fds) != 0) exit(1);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        /* SIGTSTP and SIGCONT stay blocked but in sigsuspend: one arriving between a test of its
           flag and a pause() would leave the child waiting for ever. */
        sigset_t jobs, none;
        sigemptyset(&jobs);
        sigaddset(&jobs, SIGTSTP);
        sigaddset(&jobs, SIGCONT);
        sigemptyset(&none);
        if (handlers) {
            signal(SIGTSTP, on_tstp);
            signal(SIGCONT, on_cont);
            sigprocmask(SIG_SETMASK, &jobs, NULL);
        } else {
            sigprocmask(SIG_SETMASK, &none, NULL);
        }
        close(fds[0]);
        if (write(fds[1], "r", 1) != 1) _exit(1);
        close(fds[1]);
        if (!handlers) {
            for (int i = 0; i < 200; i++) usleep(10000);
            _exit(0);
        }
        while (!tstp_seen) sigsuspend(&none);
        printf("child: SIGTSTP handler ran\n");
        fflush(stdout);
        signal(SIGTSTP, SIG_DFL);
        sigprocmask(SIG_UNBLOCK, &jobs, NULL);   /* SIGCONT's handler may run at once: cont_seen is tested after */
        raise(SIGTSTP);
        sigprocmask(SIG_BLOCK, &jobs, NULL);
        while (!cont_seen) sigsuspend(&none);
        printf("child: continued, SIGCONT handler ran\n");
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    char byte;
    *ready = read(fds[0], &byte, 1) == 1;
    close(fds[0]);
    return child;
}

static void stop_and_continue(pid_t child, int signal)
{
    int status;
    kill(child, signal);
    if (waitpid(child, &status, WUNTRACED) != child) exit(1);
    printf("parent: child stopped %d by %s\n", WIFSTOPPED(status), WIFSTOPPED(status) ? strsignal(WSTOPSIG(status)) : "-");
    fflush(stdout);
    kill(child, SIGCONT);
    if (waitpid(child, &status, 0) != child) exit(1);
    printf("parent: child exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
    fflush(stdout);
}

int main(void)
{
    int ready;
    pid_t child = start_child(1, &ready);
    if (!ready) return 1;
    stop_and_continue(child, SIGTSTP);
    child = start_child(0, &ready);
    if (!ready) return 1;
    stop_and_continue(child, SIGTTOU);
    return 0;
}
