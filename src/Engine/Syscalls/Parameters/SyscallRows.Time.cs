using static Checker.Engine.Syscalls.Parameters.KernelStructs;
using static Checker.Engine.Syscalls.Parameters.Rules;

namespace Checker.Engine.Syscalls.Parameters;

/// <summary>Time, timers, sleeping and waiting for descriptors.</summary>
internal static partial class SyscallRows
{
    private const ulong EpollCtlAdd = 1, EpollCtlMod = 3, TimerAbstime = 1;

    // Only the fields the kernel acts on: a sigevent's union tail is unused for SIGEV_SIGNAL.
    private static readonly StructField[] SigEventFields = [new("sigev_value", 0, 8), new("sigev_signo", 8, 4), new("sigev_notify", 12, 4)];

    // epoll_event.data is the program's own cookie, handed back by epoll_wait; programs commonly
    // set only part of it (data.fd), so only events is checked.
    private static readonly StructField[] EpollEventFields = [new("events", 0, 4)];

    private static IEnumerable<SyscallDescription> Time() =>
    [
        Row(7, "poll", "ufds, nfds, timeout_msecs", Poll(0, 1)),
        Row(23, "select", "n, inp, outp, exp, tvp",
            FdSet(1, 0), FdSet(2, 0), FdSet(3, 0), Fixed(4, Timeval, ReadsThenWrites, optional: true)),
        Row(24, "sched_yield", ""),
        Row(34, "pause", ""),
        Row(35, "nanosleep", "rqtp, rmtp", Fixed(0, Timespec, Reads), Fixed(1, Timespec, Writes, optional: true, writtenOnEintr: true)),
        Row(36, "getitimer", "which, value", Fixed(1, Itimerval, Writes)),
        Row(37, "alarm", "seconds"),
        Row(38, "setitimer", "which, value, ovalue", Fixed(1, Itimerval, Reads, optional: true), Fixed(2, Itimerval, Writes, optional: true)),
        Row(96, "gettimeofday", "tv, tz", Fixed(0, Timeval, Writes, optional: true), Fixed(1, Timezone, Writes, optional: true)),
        Row(100, "times", "tbuf", Fixed(0, Tms, Writes, optional: true)),
        Row(159, "adjtimex", "txc_p", Fixed(0, Timex, ReadsThenWrites)),
        Row(164, "settimeofday", "tv, tz", Fixed(0, Timeval, Reads, optional: true), Fixed(1, Timezone, Reads, optional: true)),
        Row(201, "time", "tloc", Fixed(0, TimeT, Writes, optional: true)),
        Row(213, "epoll_create", "size"),
        Row(222, "timer_create", "which_clock, timer_event_spec, created_timer_id",
            Fields(1, SigEventFields, optional: true), Value(2, 4, Writes)),
        Row(223, "timer_settime", "timer_id, flags, new_setting, old_setting", Fixed(2, Itimerspec, Reads), Fixed(3, Itimerspec, Writes, optional: true)),
        Row(224, "timer_gettime", "timer_id, setting", Fixed(1, Itimerspec, Writes)),
        Row(225, "timer_getoverrun", "timer_id"),
        Row(226, "timer_delete", "timer_id"),
        Row(227, "clock_settime", "which_clock, tp", Fixed(1, Timespec, Reads)),
        Row(228, "clock_gettime", "which_clock, tp", Fixed(1, Timespec, Writes)),
        Row(229, "clock_getres", "which_clock, tp", Fixed(1, Timespec, Writes, optional: true)),
        Row(230, "clock_nanosleep", "which_clock, flags, rqtp, rmtp", Fixed(2, Timespec, Reads),
            When(1, v => (v & TimerAbstime) == 0, "flags lacks TIMER_ABSTIME", Fixed(3, Timespec, Writes, optional: true, writtenOnEintr: true))),
        Row(232, "epoll_wait", "epfd, events, maxevents, timeout", Array(1, 2, EpollEvent, Writes, sizedByResult: true)),
        Row(233, "epoll_ctl", "epfd, op, fd, event",
            When(1, [EpollCtlAdd, EpollCtlMod], "op is EPOLL_CTL_ADD or EPOLL_CTL_MOD", Fields(3, EpollEventFields))),
        Row(270, "pselect6", "n, inp, outp, exp, tsp, sig",
            FdSet(1, 0), FdSet(2, 0), FdSet(3, 0), Fixed(4, Timespec, ReadsThenWrites, optional: true), SigmaskPair(5)),
        Row(271, "ppoll", "ufds, nfds, tsp, sigmask, sigsetsize",
            Poll(0, 1), Fixed(2, Timespec, ReadsThenWrites, optional: true), SigSet(3, 4, Reads)),
        Row(281, "epoll_pwait", "epfd, events, maxevents, timeout, sigmask, sigsetsize",
            Array(1, 2, EpollEvent, Writes, sizedByResult: true), SigSet(4, 5, Reads)),
        Row(283, "timerfd_create", "clockid, flags"),
        Row(284, "eventfd", "count"),
        Row(286, "timerfd_settime", "ufd, flags, utmr, otmr", Fixed(2, Itimerspec, Reads), Fixed(3, Itimerspec, Writes, optional: true)),
        Row(287, "timerfd_gettime", "ufd, otmr", Fixed(1, Itimerspec, Writes)),
        Row(290, "eventfd2", "count, flags"),
        Row(291, "epoll_create1", "flags"),
        Row(305, "clock_adjtime", "which_clock, utx", Fixed(1, Timex, ReadsThenWrites)),
        Row(441, "epoll_pwait2", "epfd, events, maxevents, timeout, sigmask, sigsetsize",
            Array(1, 2, EpollEvent, Writes, sizedByResult: true), Fixed(3, Timespec, Reads, optional: true), SigSet(4, 5, Reads)),
    ];
}
