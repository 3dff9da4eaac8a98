/* Runs before the .NET runtime starts (an ELF constructor in the memcheck executable) and records
 * which signals were ignored when memcheck was exec'd: the guest inherits those dispositions, but
 * the runtime sets SIGPIPE to SIG_IGN during its own start-up, so the kernel can no longer tell us.
 * Also the signal mask memcheck was exec'd with, which the guest inherits as natively (a program
 * memcheck follows across exec gets its parent's mask this way).
 * The engine's kick signal (SIGRTMAX) may arrive pending across memcheck's exec of itself (a signal
 * for the guest on another thread kicks every guest thread, the exec'ing one included); with its
 * default action it would kill the new image as soon as the runtime unblocks it. Ignoring it
 * discards a pending one; the engine installs its own handler before any guest code runs. */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* ThreadStopper.KickSignal */
#define KICK_SIGNAL 64

static uint64_t initial_ignored;
static uint64_t initial_mask;

__attribute__((constructor)) static void record_initial_signals(void)
{
    for (int s = 1; s <= 64; s++) {
        struct sigaction action;
        if (sigaction(s, NULL, &action) == 0 && action.sa_handler == SIG_IGN)
            initial_ignored |= (uint64_t)1 << (s - 1);
    }
    sigset_t mask;
    if (sigprocmask(SIG_BLOCK, NULL, &mask) == 0)
        for (int s = 1; s <= 64; s++)
            if (sigismember(&mask, s) == 1)
                initial_mask |= (uint64_t)1 << (s - 1);

    struct sigaction ignore = { 0 };
    ignore.sa_handler = SIG_IGN;
    sigaction(KICK_SIGNAL, &ignore, NULL);
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, KICK_SIGNAL);
    sigprocmask(SIG_UNBLOCK, &kick, NULL);
}

uint64_t checker_initial_ignored_signals(void)
{
    return initial_ignored;
}

uint64_t checker_initial_signal_mask(void)
{
    return initial_mask;
}
