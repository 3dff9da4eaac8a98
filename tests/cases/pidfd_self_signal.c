/* pidfd_send_signal to the process's own pidfd: the handler has run when the call returns, as for
 * kill(getpid()), with the siginfo the kernel would give (SI_USER and the sender's pid without one;
 * the caller's SI_QUEUE value with one). Passed to the kernel under memcheck, the signal went to
 * memcheck's threads and reached the program's handler later, asynchronously. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t handled, code, value, from_self;

static void on_usr1(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    handled++;
    code = info->si_code;
    value = info->si_value.sival_int;
    from_self = info->si_pid == getpid();
}

int main(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_usr1;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &action, NULL);
    int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pidfd < 0) {
        perror("pidfd_open");
        return 1;
    }
    long r = syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0);
    printf("plain: result %ld, handled %d, SI_USER %d, from self %d\n", r, handled, code == SI_USER, from_self);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = SIGUSR1;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_int = 42;
    r = syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, &info, 0);
    printf("queued: result %ld, handled %d, SI_QUEUE %d, value %d\n", r, handled, code == SI_QUEUE, value);
    return 0;
}
