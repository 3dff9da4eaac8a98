/* signal_handlers: the program's signal handlers run under memcheck as natively. Each argument
 * names a scenario; each prints what it observed, so the output is the same natively and under
 * memcheck. raise: SIGUSR1 handler with SA_SIGINFO (si_code, si_pid), SA_NODEFER/SA_RESETHAND.
 * segv: a SIGSEGV handler that siglongjmps out of a null write. ucontext: a SIGILL handler that
 * skips ud2 by editing the ucontext's pc and sets rax. itimer: setitimer ticking into pause().
 * eintr/restart: SIGALRM interrupting a blocking read of a pipe, without SA_RESTART (EINTR) and
 * with it (the read goes on and gets the data written by the handler). altstack: a handler on a
 * sigaltstack. mask: a blocked signal stays pending until unblocked. spin: alarm() interrupting a
 * tight loop. cancel: pthread_cancel of a thread blocked in pause(). sigwait: a thread waits in
 * sigwaitinfo for a blocked SIGUSR2 that main sends the process. signalfd: blocked SIGUSR1 (raised)
 * and SIGCHLD (a child exiting with 3: its si_code, status and pid) read from a signalfd after poll.
 * chldinfo: an SA_SIGINFO SIGCHLD handler sees the exited child's code, status and pid. timer: a POSIX timer with
 * SIGEV_THREAD (glibc's helper thread waits for SIGEV_THREAD_ID signals) calls back 3 times.
 * suspend: sigsuspend with SIGALRM unblocked runs its handler and restores the mask. nodefer: a
 * handler with SA_NODEFER raising its own signal runs nested at once. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static volatile int last_code, last_pid_ok;
static sigjmp_buf jump;
static int pipe_fds[2];

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    hits++;
    last_code = info->si_code;
    last_pid_ok = info->si_pid == getpid() && sig == SIGUSR1;
}

static void on_segv(int sig) { (void)sig; siglongjmp(jump, 1); }

static void on_ill(int sig, siginfo_t *info, void *ucv)
{
    (void)sig; (void)info;
    ucontext_t *uc = ucv;
    uc->uc_mcontext.gregs[REG_RIP] += 2;   /* past ud2 */
    uc->uc_mcontext.gregs[REG_RAX] = 1234;
}

static void on_tick(int sig) { (void)sig; hits++; }

static void on_alarm_write(int sig)
{
    (void)sig;
    hits++;
    if (write(pipe_fds[1], "x", 1) != 1) _exit(3);
}

static char alt_stack[65536];
static volatile int on_alt;
static void on_alt_usr2(int sig)
{
    (void)sig;
    char here;
    on_alt = &here >= alt_stack && &here < alt_stack + sizeof alt_stack;
}

static volatile int spin_stop;
static void on_spin_alarm(int sig) { (void)sig; spin_stop = 1; }

static volatile int depth, max_depth;
static void on_nested(int sig)
{
    depth++;
    if (depth > max_depth) max_depth = depth;
    if (depth == 1) raise(sig);
    depth--;
}

static volatile int timer_ticks;
static void on_timer(union sigval v) { (void)v; timer_ticks++; }

static void *sleeper(void *arg) { (void)arg; for (;;) pause(); return NULL; }

static void *waiter(void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    siginfo_t info;
    int got = sigwaitinfo(&set, &info);
    *(int *)arg = got == SIGUSR2 && info.si_pid == getpid() ? 1 : -got;
    return NULL;
}

static volatile sig_atomic_t child_seen, child_code, child_status, child_pid;

static void on_child(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    child_code = info->si_code;
    child_status = info->si_status;
    child_pid = info->si_pid;
    child_seen = 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "raise")) {
            struct sigaction sa = {0};
            sa.sa_sigaction = on_usr1;
            sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
            sigaction(SIGUSR1, &sa, NULL);
            raise(SIGUSR1);
            struct sigaction now;
            sigaction(SIGUSR1, NULL, &now);
            printf("raise: hits %d code %s pid %s reset %s\n", hits, last_code == SI_TKILL ? "SI_TKILL" : "other",
                   last_pid_ok ? "ok" : "bad", now.sa_handler == SIG_DFL ? "yes" : "no");
            hits = 0;
        } else if (!strcmp(s, "segv")) {
            signal(SIGSEGV, on_segv);
            volatile int *null = NULL;
            if (sigsetjmp(jump, 1) == 0) {
                *null = 1;
                printf("segv: not reached\n");
            } else printf("segv: recovered\n");
            signal(SIGSEGV, SIG_DFL);
        } else if (!strcmp(s, "ucontext")) {
            struct sigaction sa = {0};
            sa.sa_sigaction = on_ill;
            sa.sa_flags = SA_SIGINFO;
            sigaction(SIGILL, &sa, NULL);
            long rax;
            __asm__ volatile("xor %%eax, %%eax\n\tud2\n\tmov %%rax, %0" : "=r"(rax) : : "rax");
            printf("ucontext: continued with rax %ld\n", rax);
        } else if (!strcmp(s, "itimer")) {
            signal(SIGALRM, on_tick);
            struct itimerval it = {{0, 10000}, {0, 10000}};
            setitimer(ITIMER_REAL, &it, NULL);
            hits = 0;
            while (hits < 5) pause();
            struct itimerval off = {{0, 0}, {0, 0}};
            setitimer(ITIMER_REAL, &off, NULL);
            printf("itimer: %d ticks\n", hits >= 5 ? 5 : (int)hits);
            signal(SIGALRM, SIG_DFL);
        } else if (!strcmp(s, "eintr") || !strcmp(s, "restart")) {
            int restart = !strcmp(s, "restart");
            if (pipe(pipe_fds) != 0) return 2;
            struct sigaction sa = {0};
            sa.sa_handler = on_alarm_write;
            sa.sa_flags = restart ? SA_RESTART : 0;
            sigaction(SIGALRM, &sa, NULL);
            hits = 0;
            alarm(1);
            char c;
            ssize_t n = read(pipe_fds[0], &c, 1);
            printf("%s: read returned %zd%s, handler ran %d\n", s, n, n < 0 ? " (EINTR)" : "", (int)hits);
            close(pipe_fds[0]);
            close(pipe_fds[1]);
            signal(SIGALRM, SIG_DFL);
        } else if (!strcmp(s, "altstack")) {
            stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
            sigaltstack(&ss, NULL);
            struct sigaction sa = {0};
            sa.sa_handler = on_alt_usr2;
            sa.sa_flags = SA_ONSTACK;
            sigaction(SIGUSR2, &sa, NULL);
            raise(SIGUSR2);
            printf("altstack: handler on the alternate stack: %s\n", on_alt ? "yes" : "no");
        } else if (!strcmp(s, "mask")) {
            struct sigaction sa = {0};
            sa.sa_sigaction = on_usr1;
            sa.sa_flags = SA_SIGINFO;
            sigaction(SIGUSR1, &sa, NULL);
            sigset_t set, old;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR1);
            hits = 0;
            sigprocmask(SIG_BLOCK, &set, &old);
            kill(getpid(), SIGUSR1);
            int before = hits;
            sigprocmask(SIG_SETMASK, &old, NULL);
            printf("mask: while blocked %d, after unblocking %d\n", before, (int)hits);
        } else if (!strcmp(s, "spin")) {
            signal(SIGALRM, on_spin_alarm);
            alarm(1);
            unsigned long n = 0;
            while (!spin_stop) n++;
            printf("spin: stopped by the alarm\n");
        } else if (!strcmp(s, "cancel")) {
            pthread_t t;
            pthread_create(&t, NULL, sleeper, NULL);
            usleep(10000);
            pthread_cancel(t);
            void *result;
            pthread_join(t, &result);
            printf("cancel: %s\n", result == PTHREAD_CANCELED ? "cancelled" : "not cancelled");
        } else if (!strcmp(s, "signalfd")) {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR1);
            sigaddset(&set, SIGCHLD);
            sigprocmask(SIG_BLOCK, &set, NULL);
            int fd = signalfd(-1, &set, SFD_CLOEXEC);
            raise(SIGUSR1);
            pid_t child = fork();
            if (child == 0) _exit(3);
            int seen_usr1 = 0, seen_chld = 0, chld_details = 0;
            while (!(seen_usr1 && seen_chld)) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 10000) != 1) break;
                struct signalfd_siginfo si;
                if (read(fd, &si, sizeof si) != sizeof si) break;
                if (si.ssi_signo == SIGUSR1) seen_usr1 = 1;
                if (si.ssi_signo == SIGCHLD) {
                    seen_chld = 1;
                    chld_details = si.ssi_code == CLD_EXITED && si.ssi_status == 3 && si.ssi_pid == (uint32_t)child;
                }
            }
            waitpid(child, NULL, 0);
            close(fd);
            printf("signalfd: SIGUSR1 %s, SIGCHLD %s\n", seen_usr1 ? "read" : "missing",
                   !seen_chld ? "missing" : chld_details ? "read with its code, status and pid" : "read without its details");
        } else if (!strcmp(s, "chldinfo")) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = on_child;
            sa.sa_flags = SA_SIGINFO;
            sigaction(SIGCHLD, &sa, NULL);
            /* Blocked until sigsuspend: a SIGCHLD between the test of child_seen and a pause()
               would leave it waiting for ever (it did, natively, under a loaded machine). */
            sigset_t chld, unblocked;
            sigemptyset(&chld);
            sigaddset(&chld, SIGCHLD);
            sigprocmask(SIG_BLOCK, &chld, &unblocked);
            pid_t child = fork();
            if (child == 0) _exit(5);
            while (!child_seen) sigsuspend(&unblocked);
            sigprocmask(SIG_SETMASK, &unblocked, NULL);
            waitpid(child, NULL, 0);
            printf("chldinfo: code %s, status %d, pid %s\n", child_code == CLD_EXITED ? "CLD_EXITED" : "other", child_status,
                   child_pid == child ? "the child's" : "another");
        } else if (!strcmp(s, "suspend")) {
            signal(SIGALRM, on_tick);
            sigset_t block, old, during, after;
            sigemptyset(&block);
            sigaddset(&block, SIGALRM);
            sigprocmask(SIG_BLOCK, &block, &old);
            hits = 0;
            struct itimerval once = {{0, 0}, {0, 20000}};
            setitimer(ITIMER_REAL, &once, NULL);
            sigemptyset(&during);
            int rc = sigsuspend(&during);
            sigprocmask(SIG_SETMASK, NULL, &after);
            printf("suspend: returned %d, handler ran %d, still blocked after %s\n", rc, (int)hits, sigismember(&after, SIGALRM) ? "yes" : "no");
            sigprocmask(SIG_SETMASK, &old, NULL);
            signal(SIGALRM, SIG_DFL);
        } else if (!strcmp(s, "nodefer")) {
            struct sigaction sa = {0};
            sa.sa_handler = on_nested;
            sa.sa_flags = SA_NODEFER;
            sigaction(SIGUSR2, &sa, NULL);
            raise(SIGUSR2);
            printf("nodefer: nested depth %d\n", max_depth);
        } else if (!strcmp(s, "timer")) {
            timer_t t;
            struct sigevent ev;
            memset(&ev, 0, sizeof ev);
            ev.sigev_notify = SIGEV_THREAD;
            ev.sigev_notify_function = on_timer;
            if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0) return 2;
            struct itimerspec its = {{0, 10000000}, {0, 10000000}};
            timer_settime(t, 0, &its, NULL);
            for (int k = 0; k < 1000 && timer_ticks < 3; k++) usleep(10000);
            timer_delete(t);
            printf("timer: %s\n", timer_ticks >= 3 ? "3 ticks" : "missing");
        } else if (!strcmp(s, "sigwait")) {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR2);
            pthread_sigmask(SIG_BLOCK, &set, NULL);
            int ok = 0;
            pthread_t t;
            pthread_create(&t, NULL, waiter, &ok);
            usleep(20000);
            kill(getpid(), SIGUSR2);
            pthread_join(t, NULL);
            printf("sigwait: %s\n", ok == 1 ? "received" : "not received");
        }
    }
    return 0;
}
