/* ignored_signals_epipe: installs signal(SIGINT, handler) and
 * signal(SIGPIPE, SIG_IGN), never receives either, then writes to a pipe
 * whose read end is closed: write must fail with EPIPE (no SIGPIPE death).
 * Prints what happened; exits 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupts;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupts++;
}

int main(void)
{
    if (signal(SIGINT, on_interrupt) == SIG_ERR || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        perror("signal");
        return 1;
    }
    void (*previous)(int) = signal(SIGPIPE, SIG_IGN);
    printf("SIGPIPE disposition reads back as SIG_IGN: %d\n", previous == SIG_IGN);
    previous = signal(SIGINT, on_interrupt);
    printf("SIGINT disposition reads back as the handler: %d\n", previous == on_interrupt);

    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    close(fds[0]);
    errno = 0;
    ssize_t n = write(fds[1], "x", 1);
    int saved = errno;
    printf("write to closed pipe: returned %zd, errno %s (%s)\n",
           n, saved == EPIPE ? "EPIPE" : "other", strerror(saved));
    close(fds[1]);
    printf("interrupts handled: %d\n", (int)interrupts);
    return (n == -1 && saved == EPIPE) ? 0 : 1;
}
