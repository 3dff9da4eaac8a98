using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Dispatch;

/// <summary>
/// A host thread running guest code: its context block is in the thread's own static TLS, reached
/// by generated code as fs:[ContextTls.Offset + slot]; gs (free on Linux x64: the CLR and glibc use
/// fs) holds the tool's segment base, the shadow's for memcheck (<see cref="ContextTls"/>).
/// Each guest thread runs on a host thread of its own, so the guest's tid is the host thread's.
/// Also holds the per-thread kernel state the engine emulates (clear_child_tid, robust list, the
/// signal mask, the alternate stack).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class GuestThread
{
    private const int ArchSetGs = 0x1001, ArchGetFs = 0x1003;

    private GuestThread(ContextBlock* context, int number)
    {
        Context = context;
        Number = number;
    }

    public ContextBlock* Context { get; }

    /// <summary>The guest thread running on the calling host thread (null on other host threads).</summary>
    [ThreadStatic] private static GuestThread? _current;
    public static GuestThread? Current => _current;

    /// <summary>1 for the main thread, then 2, 3... in order of creation (as reports name them).</summary>
    public int Number { get; }

    /// <summary>The kernel's id of the thread (gettid).</summary>
    public long Tid => Context->ThreadId;

    /// <summary>Where the thread was created: raw return addresses of the clone call (empty for the main thread).</summary>
    public ulong[] CreationStack { get; init; } = [];

    /// <summary>CLONE_CHILD_CLEARTID / set_tid_address: zeroed and futex-woken when the thread exits.</summary>
    public ulong ClearChildTid { get; set; }
    public ulong RobustList { get; set; }

    /// <summary>The guest's view of this thread's signal mask (bit n-1 for signal n).</summary>
    public ulong SignalMask { get; set; }
    public (ulong Sp, ulong Flags, ulong Size) AltStack { get; set; } = (0, 2 /* SS_DISABLE */, 0);

    /// <summary>Set once the thread has left by exit(2) while others run on (<see cref="GuestThreads.TryLeave"/>).</summary>
    public bool Finished { get; internal set; }
    public int ExitStatus { get; set; }

    /// <summary>Signals sent to this thread, waiting for its next safe point (guarded by the delivery's lock).</summary>
    internal List<Delivery.SignalInfo> PendingSignals { get; } = [];

    /// <summary>Where to go on after an emulated system call that moves the pc (rt_sigreturn); 0: after the call.</summary>
    public ulong ResumePc { get; set; }

    /// <summary>The mask to restore after the handler that ends an rt_sigsuspend (its frame saves this one).</summary>
    public ulong? MaskAfterSuspend { get; set; }

    /// <summary>The number of the guest system call a kick interrupted (see <see cref="Delivery.SignalDelivery"/>).</summary>
    public long? InterruptedSyscall { get; set; }

    /// <summary>
    /// The alternate signal stack of a guest thread: the fault and kick handlers run on it, so a
    /// guest rsp that is unusable (a stack overflow, a smashed rsp) cannot kill memcheck silently.
    /// </summary>
    private const ulong AltStackSize = 256 << 10;

    // Alternate stacks of threads that have exited, for the next ones: a program that creates a
    // thread per request would otherwise keep ~260 KB per thread it ever had.
    private static readonly System.Collections.Concurrent.ConcurrentBag<ulong> Recycled = new();

    private ulong _altStack;

    /// <summary>
    /// Makes the calling host thread a guest thread: its TLS context block cleared and set up, gs
    /// at <paramref name="segmentBase"/> (the tool's, <see cref="Tools.Tool.SegmentBase"/>).
    /// </summary>
    public static GuestThread CreateOnCurrentThread(KernelInterface kernel, ulong segmentBase, int number = 1, ulong[]? creationStack = null)
    {
        if (!ContextTls.Configured) throw new EngineException("this build of memcheck has no context block TLS (run the NativeAOT binary)");
        ulong threadPointer;
        long r = kernel.Call(SyscallNumbers.ArchPrctl, ArchGetFs, (long)&threadPointer);
        if (r != 0) throw new EngineException($"arch_prctl(ARCH_GET_FS) failed: {r}");
        ulong block = threadPointer + (ulong)(long)ContextTls.Offset;
        if (!Recycled.TryTake(out ulong altStack)) altStack = MapAltStack();
        new Span<byte>((void*)block, ContextOffsets.Size).Clear();
        var context = (ContextBlock*)block;
        context->Self = block;
        context->Rflags = 0x202;
        // XRSTOR loads MXCSR from the legacy area even for init state: give the guest the ABI default.
        *(uint*)(block + ContextOffsets.XsaveArea + 24) = 0x1f80;
        // Through the kernel, never wrfsbase/wrgsbase: a base the kernel does not know of may be
        // replaced by the one it knows at any context switch (ContextTls).
        r = kernel.Call(SyscallNumbers.ArchPrctl, ArchSetGs, (long)segmentBase);
        if (r != 0) throw new EngineException($"arch_prctl(ARCH_SET_GS) failed: {r}");
        context->ThreadId = kernel.Call(SyscallNumbers.Gettid);
        ulong* stack = stackalloc ulong[3] { altStack, 0, AltStackSize };
        r = kernel.Call(SyscallNumbers.Sigaltstack, (long)stack, 0);
        if (r != 0) throw new EngineException($"sigaltstack failed: {r}");
        HostSignalMask.BlockAsynchronous(kernel);
        var thread = new GuestThread(context, number) { CreationStack = creationStack ?? [], _altStack = altStack };
        _current = thread;
        return thread;
    }

    /// <summary>
    /// On the host thread of a guest thread that has exited for good, as it ends: gives its
    /// alternate stack to the next thread. The context block goes with the host thread's TLS.
    /// </summary>
    public void Retire(KernelInterface kernel)
    {
        const int SsDisable = 2;
        ulong* disable = stackalloc ulong[3] { 0, SsDisable, 0 };
        kernel.Call(SyscallNumbers.Sigaltstack, (long)disable, 0);
        kernel.Call(SyscallNumbers.ArchPrctl, ArchSetGs, 0);
        _current = null;
        Recycled.Add(_altStack);
    }

    /// <summary>A guard page below, so an overflow of the handler's own stack faults instead of writing on.</summary>
    private static ulong MapAltStack()
    {
        ulong guard = HostMemory.MapAnonymous(0, AltStackSize + HostMemory.PageSize, LibC.ProtNone);
        HostMemory.Protect(guard + HostMemory.PageSize, AltStackSize, LibC.ProtRead | LibC.ProtWrite);
        return guard + HostMemory.PageSize;
    }
}
