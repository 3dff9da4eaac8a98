using static Checker.Engine.Syscalls.Parameters.KernelStructs;
using static Checker.Engine.Syscalls.Parameters.Rules;

namespace Checker.Engine.Syscalls.Parameters;

/// <summary>Processes, identity, limits, scheduling, memory mappings and futexes.</summary>
internal static partial class SyscallRows
{
    private const ulong PrSetName = 15, PrGetName = 16, ArchGetFs = 0x1003, ArchGetGs = 0x1004;
    private const ulong MremapMayMove = 1;
    private const ulong PtraceTraceMe = 0, PtracePeekText = 1, PtracePeekData = 2, PtracePeekUser = 3, PtraceGetRegs = 12, PtraceSetRegs = 13,
        PtraceGetFpRegs = 14, PtraceSetFpRegs = 15, PtraceGetEventMsg = 0x4201, PtraceGetSigInfo = 0x4202, PtraceSetSigInfo = 0x4203,
        PtraceGetRegSet = 0x4204, PtraceSetRegSet = 0x4205;
    private const ulong SyslogRead = 2, SyslogReadAll = 3, SyslogReadClear = 4;

    private static readonly StructField[] CapHeaderFields = [new("version", 0, 4), new("pid", 4, 4)];

    /// <summary>
    /// capget/capset's data: one struct __user_cap_data_struct (12 bytes) for _LINUX_CAPABILITY_VERSION_1,
    /// two for versions 2 and 3 (64-bit sets); none for a version the kernel refuses.
    /// </summary>
    private static ulong CapabilityDataBytes(in SyscallCall c) =>
        !c.TryReadUInt32(c.Arg(0), out uint version) ? 0 : version switch
        {
            0x1998_0330 => 12UL,
            0x2007_1026 or 0x2008_0522 => 24,
            _ => 0,
        };

    /// <summary>mincore's vector: a byte per page of the range.</summary>
    private static ulong PageVectorBytes(in SyscallCall c) => c.Arg(1) / 4096 + (c.Arg(1) % 4096 != 0 ? 1UL : 0);
    private static ulong WholePages(in SyscallCall c) => (c.Arg(1) + 4095) & ~4095UL;
    private const ulong MadvDontNeed = 4, MadvRemove = 9, MadvDontNeedLocked = 24;

    /// <summary>
    /// A NUMA node mask of maxnode bits as the kernel copies it: maxnode - 1 bits in whole longs; none
    /// past the kernel's limit (a page of bits), where it fails with EINVAL before copying.
    /// </summary>
    private static ulong NodeMaskBytes(ulong maxnode) => maxnode <= 1 || maxnode > 4096 * 8 ? 0 : (maxnode - 1 + 63) / 64 * 8;

    /// <summary>
    /// perf_event_open's struct perf_event_attr: as long as its size field (bytes 4..7) says,
    /// PERF_ATTR_SIZE_VER0 (64) when that is 0 (the kernel's perf_copy_attr); its first 8 bytes when
    /// the size cannot be read.
    /// </summary>
    private static ulong PerfEventAttrBytes(in SyscallCall c) =>
        !c.TryReadUInt32(c.Arg(0) + 4, out uint size) ? 8 : size == 0 ? 64 : Math.Min(size, 4096u);

    // seccomp operations.
    private const ulong SeccompSetModeFilter = 1, SeccompGetActionAvail = 2, SeccompGetNotifSizes = 3;

    /// <summary>sched_setattr's struct sched_attr: as long as its size field says, SCHED_ATTR_SIZE_VER0 (48) when that is 0.</summary>
    private static ulong SchedAttrBytes(in SyscallCall c) =>
        !c.TryReadUInt32(c.Arg(1), out uint size) ? 4 : size == 0 ? 48 : Math.Min(size, 4096u);

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
        // Private pages read as zeros (anonymous) or the file's bytes again (Valgrind leaves their old state).
        Row(28, "madvise", "start, len_in, behavior",
            When(2, [MadvDontNeed, MadvRemove, MadvDontNeedLocked], "behavior is MADV_DONTNEED, MADV_REMOVE or MADV_DONTNEED_LOCKED",
                Sized(0, WholePages, "{1} rounded up to whole pages", Replaces))),
        Row(27, "mincore", "start, len, vec", Sized(2, PageVectorBytes, "ceil({1} / 4096) bytes", Writes)),
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
        Row(101, "ptrace", "request, pid, addr, data",
            When(0, [PtracePeekText, PtracePeekData, PtracePeekUser], "request is PTRACE_PEEKTEXT, PEEKDATA or PEEKUSER", Value(3, 8, Writes)),
            When(0, [PtraceGetRegs], "request is PTRACE_GETREGS", Fixed(3, UserRegs, Writes)),
            When(0, [PtraceSetRegs], "request is PTRACE_SETREGS", Fixed(3, UserRegs, Reads)),
            When(0, [PtraceGetFpRegs], "request is PTRACE_GETFPREGS", Fixed(3, UserFpRegs, Writes)),
            When(0, [PtraceSetFpRegs], "request is PTRACE_SETFPREGS", Fixed(3, UserFpRegs, Reads)),
            When(0, [PtraceGetEventMsg], "request is PTRACE_GETEVENTMSG", Value(3, 8, Writes)),
            When(0, [PtraceGetSigInfo], "request is PTRACE_GETSIGINFO", Fixed(3, SigInfo, Writes)),
            When(0, [PtraceSetSigInfo], "request is PTRACE_SETSIGINFO", Fixed(3, SigInfo, Reads)),
            When(0, [PtraceGetRegSet], "request is PTRACE_GETREGSET", new RegSetRule(3, Writes)),
            When(0, [PtraceSetRegSet], "request is PTRACE_SETREGSET", new RegSetRule(3, Reads)))
            .Using(args => args.Length > 0 && args[0] == PtraceTraceMe ? 1 : 4, "pid, addr and data not with PTRACE_TRACEME"),
        Row(102, "getuid", ""),
        Row(103, "syslog", "type, buf, len",
            When(0, [SyslogRead, SyslogReadAll, SyslogReadClear], "type is SYSLOG_ACTION_READ, _READ_ALL or _READ_CLEAR", OutBuffer(1, 2))),
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
        Row(125, "capget", "header, dataptr", Fields(0, CapHeaderFields),
            Sized(1, CapabilityDataBytes, "12 bytes for header's version 1, 24 for versions 2 and 3", Writes, optional: true)),
        Row(126, "capset", "header, data", Fields(0, CapHeaderFields),
            Sized(1, CapabilityDataBytes, "12 bytes for header's version 1, 24 for versions 2 and 3", Reads)),
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
            When(1, v => FutexOp(v) is FutexWakeOp, "op is FUTEX_WAKE_OP", Value(4, 4, Reads))).Using(FutexArguments, "as the op uses them")
            .ThirtyTwoBit(1, 2, 5),
        Row(203, "sched_setaffinity", "pid, len, user_mask_ptr", Buffer(2, 1, Reads)),
        Row(204, "sched_getaffinity", "pid, len, user_mask_ptr", OutBuffer(2, 1)),
        Row(218, "set_tid_address", "tidptr"),
        Row(231, "exit_group", "error_code"),
        Row(234, "tgkill", "tgid, pid, sig"),
        Row(247, "waitid", "which, upid, infop, options, ru", Fixed(2, SigInfo, Writes, optional: true), Fixed(4, Rusage, Writes, optional: true)),
        Row(237, "mbind", "start, len, mode, nmask, maxnode, flags",
            Sized(3, (in SyscallCall c) => NodeMaskBytes(c.Arg(4)), "{4} - 1 bits in longs", Reads, optional: true)).ThirtyTwoBit(5),
        Row(238, "set_mempolicy", "mode, nmask, maxnode",
            Sized(1, (in SyscallCall c) => NodeMaskBytes(c.Arg(2)), "{2} - 1 bits in longs", Reads, optional: true)),
        Row(239, "get_mempolicy", "policy, nmask, maxnode, addr, flags", Value(0, 4, Writes, optional: true),
            Sized(1, (in SyscallCall c) => NodeMaskBytes(c.Arg(2)), "{2} - 1 bits in longs", Writes, optional: true)),
        Row(256, "migrate_pages", "pid, maxnode, old_nodes, new_nodes",
            Sized(2, (in SyscallCall c) => NodeMaskBytes(c.Arg(1)), "{1} - 1 bits in longs", Reads),
            Sized(3, (in SyscallCall c) => NodeMaskBytes(c.Arg(1)), "{1} - 1 bits in longs", Reads)),
        Row(272, "unshare", "unshare_flags"),
        Row(273, "set_robust_list", "head, len"),
        Row(274, "get_robust_list", "pid, head_ptr, len_ptr", Value(1, 8, Writes), Value(2, 8, Writes)),
        Row(279, "move_pages", "pid, nr_pages, pages, nodes, status, flags",
            Array(2, 1, 8, "void *", Reads), Array(3, 1, 4, "int", Reads, optional: true), Array(4, 1, 4, "int", Writes)).ThirtyTwoBit(5),
        Row(302, "prlimit64", "pid, resource, new_rlim, old_rlim", Fixed(2, Rlimit, Reads, optional: true), Fixed(3, Rlimit, Writes, optional: true)),
        Row(308, "setns", "fd, nstype"),
        Row(309, "getcpu", "cpup, nodep, unused", Value(0, 4, Writes, optional: true), Value(1, 4, Writes, optional: true)),
        Row(310, "process_vm_readv", "pid, lvec, liovcnt, rvec, riovcnt, flags", IoVecArray(1, 2, Writes), Array(3, 4, IoVec, Reads)),
        Row(311, "process_vm_writev", "pid, lvec, liovcnt, rvec, riovcnt, flags", IoVecArray(1, 2, Reads), Array(3, 4, IoVec, Reads)),
        Row(298, "perf_event_open", "attr_uptr, pid, cpu, group_fd, flags",
            Sized(0, PerfEventAttrBytes, "its size field's bytes, 64 when 0", Reads)),
        Row(314, "sched_setattr", "pid, uattr, flags", Sized(1, SchedAttrBytes, "its size field's bytes, 48 when 0", Reads)),
        Row(317, "seccomp", "op, flags, uargs",
            When(0, [SeccompSetModeFilter], "op is SECCOMP_SET_MODE_FILTER", new SockFprogRule(2)),
            When(0, [SeccompGetActionAvail], "op is SECCOMP_GET_ACTION_AVAIL", Value(2, 4, Reads)),
            When(0, [SeccompGetNotifSizes], "op is SECCOMP_GET_NOTIF_SIZES", Value(2, 6, Writes))),
        // The kernel writes min(usize, its own sizeof) and says how much in the size field; all of usize counts as written.
        Row(315, "sched_getattr", "pid, uattr, usize, flags", OutBuffer(1, 2, sizedByResult: false)),
        Row(318, "getrandom", "buf, count, flags", OutBuffer(0, 1)),
        Row(322, "execveat", "fd, filename, argv, envp, flags", CString(1), StringArray(2), StringArray(3)),
        Row(324, "membarrier", "cmd, flags, cpu_id"),
        Row(325, "mlock2", "start, len, flags"),
        Row(329, "pkey_mprotect", "start, len, prot, pkey"),
        Row(330, "pkey_alloc", "flags, init_val"),
        Row(331, "pkey_free", "pkey"),
        Row(424, "pidfd_send_signal", "pidfd, sig, info, flags", Fixed(2, SigInfo, Reads, optional: true)),
        Row(434, "pidfd_open", "pid, flags"),
    ];
}
