using static Checker.Engine.Syscalls.Parameters.KernelStructs;
using static Checker.Engine.Syscalls.Parameters.Rules;

namespace Checker.Engine.Syscalls.Parameters;

/// <summary>Processes, identity, limits, scheduling, memory mappings and futexes.</summary>
internal static partial class SyscallRows
{
    private const ulong PrSetName = 15, PrGetName = 16, ArchGetFs = 0x1003, ArchGetGs = 0x1004;
    private const ulong MremapMayMove = 1;

    // futex operations (op without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME).
    private const ulong FutexWait = 0, FutexWake = 1, FutexFd = 2, FutexRequeue = 3, FutexCmpRequeue = 4, FutexWakeOp = 5,
        FutexLockPi = 6, FutexUnlockPi = 7, FutexTrylockPi = 8, FutexWaitBitset = 9, FutexWakeBitset = 10,
        FutexWaitRequeuePi = 11, FutexCmpRequeuePi = 12, FutexLockPi2 = 13;

    private static ulong FutexOp(ulong op) => op & ~(128UL | 256UL);

    /// <summary>
    /// Registers each futex operation uses: wake-type ones take only uaddr, op, val; the waits add
    /// the timeout; requeues use val2 (in the timeout's register) and uaddr2; only the
    /// WAKE_OP/CMP_REQUEUE/BITSET ones use val3.
    /// </summary>
    private static int FutexArguments(ReadOnlySpan<ulong> args) => args.Length < 2 ? 6 : FutexOp(args[1]) switch
    {
        FutexWake or FutexFd or FutexUnlockPi or FutexTrylockPi => 3,
        FutexWait or FutexLockPi or FutexLockPi2 => 4,
        FutexRequeue or FutexWaitRequeuePi => 5,
        _ => 6,
    };

    /// <summary>prctl's used registers for the options the table knows; 2 for the others (glibc's variadic wrapper passes whatever the others hold).</summary>
    private static int PrctlArguments(ReadOnlySpan<ulong> args) => 2;

    private static IEnumerable<SyscallDescription> Process() =>
    [
        Row(9, "mmap", "addr, len, prot, flags, fd, off"),
        Row(10, "mprotect", "start, len, prot"),
        Row(11, "munmap", "addr, len"),
        Row(12, "brk", "brk"),
        Row(25, "mremap", "addr, old_len, new_len, flags, new_addr")
            .Using(args => args.Length > 3 && (args[3] & ~MremapMayMove) != 0 ? 5 : 4, "new_addr only with MREMAP_FIXED or MREMAP_DONTUNMAP"),
        Row(26, "msync", "start, len, flags"),
        Row(28, "madvise", "start, len_in, behavior"),
        Row(39, "getpid", ""),
        Row(56, "clone", "clone_flags, newsp, parent_tidptr, child_tidptr, tls"),
        Row(57, "fork", ""),
        Row(58, "vfork", ""),
        Row(59, "execve", "filename, argv, envp", CString(0), StringArray(1), StringArray(2)),
        Row(60, "exit", "error_code"),
        // With WNOHANG and no child ready the result is 0 and nothing is written.
        Row(61, "wait4", "upid, stat_addr, options, ru",
            Value(1, 4, Writes, optional: true, ifResultPositive: true), Fixed(3, Rusage, Writes, optional: true, ifResultPositive: true)),
        Row(62, "kill", "pid, sig"),
        Row(63, "uname", "name", Fixed(0, Utsname, Writes)),
        Row(97, "getrlimit", "resource, rlim", Fixed(1, Rlimit, Writes)),
        Row(98, "getrusage", "who, ru", Fixed(1, Rusage, Writes)),
        Row(99, "sysinfo", "info", Fixed(0, Sysinfo, Writes)),
        Row(102, "getuid", ""),
        Row(104, "getgid", ""),
        Row(105, "setuid", "uid"),
        Row(106, "setgid", "gid"),
        Row(107, "geteuid", ""),
        Row(108, "getegid", ""),
        Row(109, "setpgid", "pid, pgid"),
        Row(110, "getppid", ""),
        Row(111, "getpgrp", ""),
        Row(112, "setsid", ""),
        Row(113, "setreuid", "ruid, euid"),
        Row(114, "setregid", "rgid, egid"),
        Row(115, "getgroups", "gidsetsize, grouplist", Array(1, 0, 4, "gid_t", Writes, sizedByResult: true)),
        Row(116, "setgroups", "gidsetsize, grouplist", Array(1, 0, 4, "gid_t", Reads)),
        Row(117, "setresuid", "ruid, euid, suid"),
        Row(118, "getresuid", "ruid, euid, suid", Value(0, 4, Writes), Value(1, 4, Writes), Value(2, 4, Writes)),
        Row(119, "setresgid", "rgid, egid, sgid"),
        Row(120, "getresgid", "rgid, egid, sgid", Value(0, 4, Writes), Value(1, 4, Writes), Value(2, 4, Writes)),
        Row(121, "getpgid", "pid"),
        Row(124, "getsid", "pid"),
        Row(135, "personality", "personality"),
        Row(140, "getpriority", "which, who"),
        Row(141, "setpriority", "which, who, niceval"),
        Row(142, "sched_setparam", "pid, param", Value(1, 4, Reads)),
        Row(143, "sched_getparam", "pid, param", Value(1, 4, Writes)),
        Row(144, "sched_setscheduler", "pid, policy, param", Value(2, 4, Reads)),
        Row(145, "sched_getscheduler", "pid"),
        Row(146, "sched_get_priority_max", "policy"),
        Row(147, "sched_get_priority_min", "policy"),
        Row(148, "sched_rr_get_interval", "pid, interval", Fixed(1, Timespec, Writes)),
        Row(149, "mlock", "start, len"),
        Row(150, "munlock", "start, len"),
        Row(151, "mlockall", "flags"),
        Row(152, "munlockall", ""),
        // The kernel copies at most 15 bytes of the new name (TASK_COMM_LEN - 1).
        Row(157, "prctl", "option, arg2, arg3, arg4, arg5",
            When(0, [PrSetName], "option is PR_SET_NAME", CString(1, 15, "arg2")),
            When(0, [PrGetName], "option is PR_GET_NAME", Value(1, 16, Writes))).Using(PrctlArguments, "arg3 to arg5 not checked"),
        Row(158, "arch_prctl", "code, addr", When(0, [ArchGetFs, ArchGetGs], "code is ARCH_GET_FS or ARCH_GET_GS", Value(1, 8, Writes))),
        Row(160, "setrlimit", "resource, rlim", Fixed(1, Rlimit, Reads)),
        Row(170, "sethostname", "name, len", Buffer(0, 1, Reads)),
        Row(171, "setdomainname", "name, len", Buffer(0, 1, Reads)),
        Row(186, "gettid", ""),
        Row(200, "tkill", "pid, sig"),
        Row(202, "futex", "uaddr, op, val, utime, uaddr2, val3",
            // The word is read (and compared) only by the waiting and PI operations; a wake uses its address alone.
            When(1, v => FutexOp(v) is FutexWait or FutexWaitBitset or FutexWaitRequeuePi or FutexLockPi or FutexLockPi2,
                "op waits (FUTEX_WAIT, _BITSET, _REQUEUE_PI, FUTEX_LOCK_PI, _PI2)",
                Value(0, 4, Reads), Fixed(3, Timespec, Reads, optional: true)),
            When(1, v => FutexOp(v) is FutexCmpRequeue or FutexCmpRequeuePi or FutexUnlockPi or FutexTrylockPi,
                "op is FUTEX_CMP_REQUEUE, _CMP_REQUEUE_PI, FUTEX_UNLOCK_PI or FUTEX_TRYLOCK_PI", Value(0, 4, Reads)),
            When(1, v => FutexOp(v) is FutexWakeOp, "op is FUTEX_WAKE_OP", Value(4, 4, Reads))).Using(FutexArguments, "as the op uses them"),
        Row(203, "sched_setaffinity", "pid, len, user_mask_ptr", Buffer(2, 1, Reads)),
        Row(204, "sched_getaffinity", "pid, len, user_mask_ptr", OutBuffer(2, 1)),
        Row(218, "set_tid_address", "tidptr"),
        Row(231, "exit_group", "error_code"),
        Row(234, "tgkill", "tgid, pid, sig"),
        Row(247, "waitid", "which, upid, infop, options, ru", Fixed(2, SigInfo, Writes, optional: true), Fixed(4, Rusage, Writes, optional: true)),
        Row(272, "unshare", "unshare_flags"),
        Row(273, "set_robust_list", "head, len"),
        Row(274, "get_robust_list", "pid, head_ptr, len_ptr", Value(1, 8, Writes), Value(2, 8, Writes)),
        Row(302, "prlimit64", "pid, resource, new_rlim, old_rlim", Fixed(2, Rlimit, Reads, optional: true), Fixed(3, Rlimit, Writes, optional: true)),
        Row(308, "setns", "fd, nstype"),
        Row(309, "getcpu", "cpup, nodep, unused", Value(0, 4, Writes, optional: true), Value(1, 4, Writes, optional: true)),
        Row(318, "getrandom", "buf, count, flags", OutBuffer(0, 1)),
        Row(322, "execveat", "fd, filename, argv, envp, flags", CString(1), StringArray(2), StringArray(3)),
        Row(324, "membarrier", "cmd, flags, cpu_id"),
        Row(325, "mlock2", "start, len, flags"),
        Row(424, "pidfd_send_signal", "pidfd, sig, info, flags", Fixed(2, SigInfo, Reads, optional: true)),
        Row(434, "pidfd_open", "pid, flags"),
    ];
}
