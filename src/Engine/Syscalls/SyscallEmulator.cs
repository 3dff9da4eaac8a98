using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.Engine.Memory;
using Checker.Engine.Native;
using Checker.Engine.State;

namespace Checker.Engine.Syscalls;

/// <summary>One guest system call: number and the six argument registers.</summary>
public readonly record struct SyscallRequest(long Number, ulong A1, ulong A2, ulong A3, ulong A4, ulong A5, ulong A6);

/// <summary>
/// Performs the guest's system calls. Most pass straight to the kernel (guest and host share the
/// address space); the ones in <see cref="_table"/> touch state the host owns (fs base, brk, signal
/// dispositions, thread bookkeeping, the code cache, what /proc/self/exe means, memcheck's own
/// descriptors and the guest's RLIMIT_NOFILE) and are emulated.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe partial class SyscallEmulator
{
    private readonly GuestProcess _process;
    private readonly Dictionary<long, Func<SyscallRequest, long>> _table;

    public SyscallEmulator(GuestProcess process)
    {
        _process = process;
        _table = new()
        {
            [SyscallNumbers.ArchPrctl] = ArchPrctl,
            [SyscallNumbers.Brk] = Brk,
            [SyscallNumbers.Exit] = ExitThread,
            [SyscallNumbers.ExitGroup] = ExitGroup,
            [SyscallNumbers.SetTidAddress] = SetTidAddress,
            [SyscallNumbers.SetRobustList] = r => { CurrentThread.RobustList = r.A1; return 0; },
            [SyscallNumbers.Rseq] = _ => -Errno.ENOSYS,
            [SyscallNumbers.Clone3] = _ => -Errno.ENOSYS,
            [SyscallNumbers.Clone] = r => IsVfork(r.A1) ? Vfork(r) : Clone(r),
            [SyscallNumbers.Fork] = r => Clone(r with { A1 = 17 /* SIGCHLD */, A2 = 0 }),
            [SyscallNumbers.Vfork] = r => Vfork(r with { A1 = CloneVmAndVfork | 17, A2 = 0 }),
            [SyscallNumbers.RtSigaction] = RtSigaction,
            [SyscallNumbers.Sigaltstack] = Sigaltstack,
            [SyscallNumbers.RtSigprocmask] = RtSigprocmask,
            [SyscallNumbers.Kill] = r => SignalSelf(r, r.A1 == (ulong)LibC.getpid(), (int)r.A2),
            [SyscallNumbers.Tkill] = r => SignalThread(r, -1, (long)r.A1, (int)r.A2),
            [SyscallNumbers.Tgkill] = r => SignalThread(r, (long)r.A1, (long)r.A2, (int)r.A3),
            [SyscallNumbers.RtSigqueueinfo] = r => QueueSignal(r, (long)r.A1, -1, (int)r.A2, r.A3),
            [SyscallNumbers.RtTgsigqueueinfo] = r => QueueSignal(r, (long)r.A1, (long)r.A2, (int)r.A3, r.A4),
            [SyscallNumbers.PidfdSendSignal] = PidfdSendSignal,
            [SyscallNumbers.Execve] = Execve,
            [SyscallNumbers.Execveat] = Execveat,
            [SyscallNumbers.Close] = Close,
            [SyscallNumbers.Dup2] = DupOnto,
            [SyscallNumbers.Dup3] = DupOnto,
            [SyscallNumbers.CloseRange] = CloseRange,
            [SyscallNumbers.Getrlimit] = Getrlimit,
            [SyscallNumbers.Setrlimit] = Setrlimit,
            [SyscallNumbers.Prlimit64] = Prlimit64,
            [SyscallNumbers.RtSigreturn] = RtSigreturn,
            [SyscallNumbers.RtSigsuspend] = RtSigsuspend,
            [SyscallNumbers.RtSigtimedwait] = RtSigtimedwait,
            [SyscallNumbers.Signalfd] = r => Signalfd(r, 0),
            [SyscallNumbers.Signalfd4] = r => Signalfd(r, (int)r.A4),
            [SyscallNumbers.Readlink] = r => Readlink(r, r.A1, r.A2, r.A3),
            [SyscallNumbers.Readlinkat] = r => Readlink(r, r.A2, r.A3, r.A4),
            [SyscallNumbers.Mmap] = Mmap,
            [SyscallNumbers.Munmap] = MunmapAndForget,
            [SyscallNumbers.Shmat] = Shmat,
            [SyscallNumbers.Shmdt] = Shmdt,
            [SyscallNumbers.Mprotect] = Mprotect,
            [SyscallNumbers.PkeyMprotect] = Mprotect,   // mprotect and a protection key (V8's code space): the same bookkeeping
            [SyscallNumbers.Mremap] = Mremap,
        };
        AddSelfPathCalls();
        AddProcSelfViews();
        AddThreadCountViews();
    }

    /// <summary>
    /// Calls that change process-wide state the translator reads (mappings, the code window, replaced
    /// functions, dispositions): made under the engine's lock, so threads see them whole. None blocks.
    /// </summary>
    private static readonly HashSet<long> Serialized =
    [
        SyscallNumbers.Brk, SyscallNumbers.Mmap, SyscallNumbers.Munmap, SyscallNumbers.Mprotect, SyscallNumbers.PkeyMprotect, SyscallNumbers.Mremap,
        SyscallNumbers.Shmat, SyscallNumbers.Shmdt, SyscallNumbers.RtSigaction,
    ];

    /// <summary>Which numbers are emulated rather than passed through (for docs and tests).</summary>
    public IEnumerable<long> EmulatedNumbers => _table.Keys;

    /// <summary>Performs the system call described by the guest registers and stores its result in rax.</summary>
    public void Handle(ContextBlock* context, ulong nextPc)
    {
        var request = new SyscallRequest((long)context->Rax, context->Rdi, context->Rsi, context->Rdx, context->R10, context->R8, context->R9);
        _nextPc = nextPc;
        Tools.Tool tool = _process.Tool;
        tool.OnSyscallBefore(context, request.Number, nextPc - 2);
        long result;
        if (!_table.TryGetValue(request.Number, out var handler))
            result = _process.GuestKernel.Call(request.Number, request.A1, request.A2, request.A3, request.A4, request.A5, request.A6);
        else if (Serialized.Contains(request.Number))
            lock (_process.Lock) result = handler(request);
        else result = handler(request);
        GuestThread thread = CurrentThread;
        if (thread.ResumePc != 0) return;   // rt_sigreturn: every register is the ucontext's
        // A kick interrupted the call for a signal (see Delivery.SignalDelivery): restart or EINTR, decided at the safe point.
        if (result is Delivery.SignalDelivery.InterruptedBeforeCall or Delivery.SignalDelivery.InterruptedRestartable)
            thread.InterruptedSyscall = request.Number;
        if (result == -Errno.EPIPE) RaiseBrokenPipe();
        context->Rax = (ulong)result;
        // The syscall instruction itself clobbers rcx (return address) and r11 (rflags).
        context->Rcx = nextPc;
        context->R11 = context->Rflags;
        if (!thread.Finished && !_process.Exited) tool.OnSyscallAfter(context, request.Number, result);
    }

    /// <summary>clone(CLONE_THREAD): a new guest thread on a host thread of its own.</summary>
    private long StartThread(SyscallRequest r)
    {
        const ulong CloneVm = 0x100, CloneSighand = 0x800;
        // As the kernel: a thread shares the address space and the signal handlers.
        if ((r.A1 & (CloneVm | CloneSighand)) != (CloneVm | CloneSighand)) return -Errno.EINVAL;
        if (_process.StartThread is not { } start) return -Errno.ENOSYS;
        return start(new ThreadRequest(r.A1, r.A2, r.A3, r.A4, r.A5, _nextPc, CurrentThread));
    }

    private long PassThrough(in SyscallRequest r) =>
        _process.Kernel.Call(r.Number, r.A1, r.A2, r.A3, r.A4, r.A5, r.A6);

    private long Brk(SyscallRequest r)
    {
        GuestBrk brk = _process.Brk;
        ulong before = brk.Current;
        // As the kernel: a break past the limit stays where it was.
        if (r.A1 > before && RefusedByLimit(HostMemory.PageUp(r.A1) - HostMemory.PageUp(before), 0)) return (long)before;
        ulong after = brk.Set(r.A1);
        if (after > before) _process.Mappings.Map(before, after - before, GuestMappings.Read | GuestMappings.Write);
        else if (after < before)
        {
            ulong keep = (after + 4095) & ~4095UL, top = (before + 4095) & ~4095UL;
            if (top > keep) _process.Mappings.Unmap(keep, top - keep);
        }
        if (after != before) _process.Tool.OnBrk(before, after);
        return (long)after;
    }

    private long ExitGroup(SyscallRequest r)
    {
        // A vfork child's parent sees its memory as it is at the exit (natively they share it).
        _process.VforkParent?.Release(_process);
        _process.Exit((int)r.A1);
        return 0;
    }

    /// <summary>exit(2): only this thread ends, unless it is the last one.</summary>
    private long ExitThread(SyscallRequest r)
    {
        GuestThread thread = CurrentThread;
        if (_process.Threads.TryLeave(thread)) thread.ExitStatus = (int)r.A1;
        else _process.Exit((int)r.A1);
        return 0;
    }

    private long ArchPrctl(SyscallRequest r)
    {
        const int SetGs = 0x1001, SetFs = 0x1002, GetFs = 0x1003, GetGs = 0x1004;
        ContextBlock* context = CurrentContext;
        switch ((int)r.A1)
        {
            case SetFs: context->GuestFsBase = r.A2; return 0;
            case SetGs: context->GuestGsBase = r.A2; return 0;
            case GetFs: return GuestMemory.TryWriteUInt64(r.A2, context->GuestFsBase) ? 0 : -Errno.EFAULT;
            case GetGs: return GuestMemory.TryWriteUInt64(r.A2, context->GuestGsBase) ? 0 : -Errno.EFAULT;
            default: return PassThrough(r);
        }
    }

    /// <summary>The guest thread performing the current system call.</summary>
    private static GuestThread CurrentThread => GuestThread.Current ?? throw new InvalidOperationException("no guest thread on this host thread");

    /// <summary>Its context block.</summary>
    private static ContextBlock* CurrentContext => CurrentThread.Context;

    /// <summary>The application pc after the current system call (where a new thread starts).</summary>
    [ThreadStatic] private static ulong _nextPc;

    private long SetTidAddress(SyscallRequest r)
    {
        // The real clear_child_tid of this thread belongs to the host's pthread: keep it.
        CurrentThread.ClearChildTid = r.A1;
        return _process.Kernel.Call(SyscallNumbers.Gettid);
    }

    private long Clone(SyscallRequest r)
    {
        const ulong CloneVm = 0x100, CloneThread = 0x10000, CloneSettls = 0x80000;
        if ((r.A1 & CloneThread) != 0) return StartThread(r);
        // A fork: the child is a copy of this process and keeps running the guest under the engine
        // until it execs. Sharing memory (CLONE_VM) would let the child's host code trash the
        // parent's host stack, so the child always gets its own copy.
        ulong flags = r.A1 & ~(CloneVm | CloneSettls);
        long result;
        // No other thread may be inside the engine's shared state (the heap, the cache) at the fork:
        // the child would inherit it half-changed, with a lock no one there will release. The fork
        // gate keeps memcheck's signal listener out the same way (it is entered before any lock).
        _process.ForkGate.EnterFork();
        try
        {
            lock (_process.Lock) result = _process.Kernel.Call(SyscallNumbers.Clone, flags, 0, r.A3, r.A4, 0);
        }
        finally
        {
            _process.ForkGate.ExitFork();
        }
        if (result >= 0) _process.ForkedOrExeced = true;
        if (result == 0 && r.A2 != 0) CurrentContext->Rsp = r.A2;
        if (result == 0)
        {
            // Kicks (signals for the guest, stops) name the thread by its tid, which is new here.
            CurrentContext->ThreadId = _process.Kernel.Call(SyscallNumbers.Gettid);
            _process.Threads.ForkedChildKeeps(CurrentThread);
            _process.OnForkedChild();
        }
        return result;
    }
}

/// <summary>A clone(CLONE_THREAD): flags, the child's stack, parent/child tid addresses, TLS, where the child starts, and who asked.</summary>
public readonly record struct ThreadRequest(ulong Flags, ulong Stack, ulong ParentTid, ulong ChildTid, ulong Tls, ulong StartPc,
    Dispatch.GuestThread Parent);
