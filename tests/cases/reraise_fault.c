/* A crash handler's pattern (chromium's, crashpad's): SIGSEGV caught with its siginfo, then sent
 * again to the same thread with rt_tgsigqueueinfo and that siginfo, the default action restored,
 * so the process dies of it as of the fault. Before that, sigqueue to itself with a value. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void queued(int sig, siginfo_t *info, void *context)
{
    (void)context;
    printf("queued %d: code %d value %d\n", sig, info->si_code, info->si_value.sival_int);
}

static void crashed(int sig, siginfo_t *info, void *context)
{
    (void)context;
    printf("caught %d: code %d at %p\n", sig, info->si_code, info->si_addr);
    fflush(stdout);
    signal(SIGSEGV, SIG_DFL);
    syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, info);
}

int main(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_flags = SA_SIGINFO;
    action.sa_sigaction = queued;
    sigaction(SIGUSR1, &action, NULL);
    sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 42 });

    action.sa_sigaction = crashed;
    sigaction(SIGSEGV, &action, NULL);
    volatile int *nowhere = (int *)0xc0;
    return *nowhere; /* LINE_FAULT */
}
