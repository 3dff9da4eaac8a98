/* Signals from outside for the checked program (SIGTERM, SIGINT, SIGCHLD of its children, ...) and
 * the nudge. The handler runs on whichever of memcheck's threads the kernel picks (guest threads
 * block asynchronous signals) and only writes one record to a pipe, which a thread of memcheck's own
 * reads (SignalListener.cs): a tag (the signal's number, or 0x80 | mode for a nudge: signal 63
 * queued with memcheck's payload; without it, 63 is the program's) and the kernel's siginfo, which
 * the program's handler or signalfd gets (a SIGCHLD's si_code, pid and status: util-linux's script
 * waits for its child only on CLD_EXITED, and hung on a bare signal number).
 *
 * Why not the runtime's PosixSignalRegistration: it runs managed code on the runtime's own threads
 * (the ".NET SigHandler" thread and thread-pool workers) whenever a signal arrives, and SIGCHLD
 * arrives just when programs fork: a child forked while one of them was inside the GC's allocator
 * inherited its lock held and hung. The runtime's pipe and thread are also the parent's: a signal
 * sent to a forked child was handled by the parent. Here the reading thread is memcheck's, it takes
 * the fork gate, and a forked child gets a pipe and a thread of its own (checker_signals_redirect). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define NUDGE_SIGNAL 63
#define NUDGE_MAGIC 0x4d434e00 /* "MCN" and a mode byte */

static volatile int forward_pipe = -1;

/* One signal as SignalListener.cs reads it: 136 bytes. */
struct forwarded_signal {
    unsigned tag;
    unsigned reserved;
    siginfo_t info;
};
_Static_assert(sizeof(struct forwarded_signal) == 136, "SignalListener.RecordSize");

static void on_forwarded_signal(int signal, siginfo_t *info, void *context)
{
    (void)context;
    int saved = errno;
    struct forwarded_signal record;
    record.tag = (unsigned)signal;
    record.reserved = 0;
    memcpy(&record.info, info, sizeof record.info);
    if (signal == NUDGE_SIGNAL && info->si_code == SI_QUEUE && ((unsigned)info->si_value.sival_int & 0xffffff00u) == NUDGE_MAGIC)
        record.tag = 0x80 | ((unsigned)info->si_value.sival_int & 0x7f);
    /* Non-blocking: when the reader is far behind, a lost record is a signal merged with a pending
     * one of the same number, as the kernel merges standard signals. A record is smaller than
     * PIPE_BUF, so it is written whole or not at all, and the pipe only ever holds whole records. */
    if (write(forward_pipe, &record, sizeof record) < 0) {
        /* nothing to do in a handler */
    }
    errno = saved;
}

/* Installs the handler for each of the count signals, except those ignored now (inherited SIG_IGN
 * stays with the kernel, as natively); bytes go to write_fd (non-blocking). Returns 0, or -1 with
 * errno. */
int checker_signals_install(int write_fd, const int *signals, int count)
{
    forward_pipe = write_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_forwarded_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);
    for (int i = 0; i < count; i++) {
        struct sigaction current;
        if (sigaction(signals[i], NULL, &current) != 0)
            return -1;
        if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN)
            continue;
        if (sigaction(signals[i], &action, NULL) != 0)
            return -1;
    }
    return 0;
}

/* In a forked child: its signals go to its own pipe from now on. */
void checker_signals_redirect(int write_fd)
{
    forward_pipe = write_fd;
}

/* Sends the nudge (mode: 0 every leak, 1 only the new ones) to pid. Returns 0, or -1 with errno. */
int checker_nudge_send(int pid, int mode)
{
    union sigval value;
    value.sival_int = NUDGE_MAGIC | (mode & 0x7f);
    return sigqueue(pid, NUDGE_SIGNAL, value);
}
