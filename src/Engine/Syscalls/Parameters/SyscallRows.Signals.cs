using static Checker.Engine.Syscalls.Parameters.KernelStructs;
using static Checker.Engine.Syscalls.Parameters.Rules;

namespace Checker.Engine.Syscalls.Parameters;

/// <summary>Signal actions, masks and stacks: new values are read, old ones written.</summary>
internal static partial class SyscallRows
{
    // stack_t: ss_sp 0, ss_flags 8, ss_size 16; the padding after ss_flags is commonly unset.
    private static readonly StructField[] StackFields = [new("ss_sp", 0, 8), new("ss_flags", 8, 4), new("ss_size", 16, 8)];

    private static IEnumerable<SyscallDescription> Signals() =>
    [
        Row(13, "rt_sigaction", "sig, act, oact, sigsetsize", SigAction(1, 3), Fixed(2, KernelStructs.SigAction, Writes, optional: true)),
        Row(14, "rt_sigprocmask", "how, nset, oset, sigsetsize", SigSet(1, 3, Reads), SigSet(2, 3, Writes)),
        Row(15, "rt_sigreturn", ""),
        Row(127, "rt_sigpending", "uset, sigsetsize", SigSet(0, 1, Writes, optional: false)),
        Row(128, "rt_sigtimedwait", "uthese, uinfo, uts, sigsetsize",
            SigSet(0, 3, Reads, optional: false), Fixed(1, SigInfo, Writes, optional: true, ifResultPositive: true), Fixed(2, Timespec, Reads, optional: true)),
        Row(129, "rt_sigqueueinfo", "pid, sig, uinfo", Fixed(2, SigInfo, Reads)),
        Row(130, "rt_sigsuspend", "unewset, sigsetsize", SigSet(0, 1, Reads, optional: false)),
        Row(131, "sigaltstack", "uss, uoss", Fields(0, StackFields, optional: true), Fixed(1, StackT, Writes, optional: true)),
        Row(282, "signalfd", "ufd, user_mask, sizemask", SigSet(1, 2, Reads, optional: false)),
        Row(289, "signalfd4", "ufd, user_mask, sizemask, flags", SigSet(1, 2, Reads, optional: false)),
        Row(297, "rt_tgsigqueueinfo", "tgid, pid, sig, uinfo", Fixed(3, SigInfo, Reads)),
    ];
}
