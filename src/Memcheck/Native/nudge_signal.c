/* The nudge: `memcheck nudge PID` queues signal 63 (SIGRTMAX-1) with a payload that marks it as
 * memcheck's. This handler runs on whichever of memcheck's threads the kernel picks (guest threads
 * block the signal) and only writes one byte to a pipe, which a thread of memcheck's reads: the
 * nudge's mode, or 0 for a plain signal 63 that belongs to the program. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define NUDGE_SIGNAL 63
#define NUDGE_MAGIC 0x4d434e00 /* "MCN" and a mode byte */

static int nudge_pipe = -1;

static void on_nudge_signal(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    int saved = errno;
    unsigned char byte = 0;
    if (info->si_code == SI_QUEUE && ((unsigned)info->si_value.sival_int & 0xffffff00u) == NUDGE_MAGIC)
        byte = 0x80 | ((unsigned)info->si_value.sival_int & 0x7f);
    if (write(nudge_pipe, &byte, 1) < 0) {
        /* nothing to do in a handler */
    }
    errno = saved;
}

/* Installs the handler; bytes go to write_fd. Returns 0, or -1 with errno. */
int checker_nudge_install(int write_fd)
{
    nudge_pipe = write_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_nudge_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);
    return sigaction(NUDGE_SIGNAL, &action, NULL);
}

/* Sends the nudge (mode: 0 every leak, 1 only the new ones) to pid. Returns 0, or -1 with errno. */
int checker_nudge_send(int pid, int mode)
{
    union sigval value;
    value.sival_int = NUDGE_MAGIC | (mode & 0x7f);
    return sigqueue(pid, NUDGE_SIGNAL, value);
}
