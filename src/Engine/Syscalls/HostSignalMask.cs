using System.Runtime.Versioning;

namespace Checker.Engine.Syscalls;

/// <summary>
/// The real signal mask of a guest thread. Asynchronous signals are blocked so that the kernel
/// delivers process-directed ones (SIGCHLD of a guest's child, SIGINT) to a CLR thread, never onto
/// the guest's stack mid-fragment. Synchronous faults stay deliverable, and so does the CLR's
/// activation signal (SIGRTMIN), which it only sends to threads running managed code.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class HostSignalMask
{
    private const int SigSetMask = 2;

    private static ulong Bit(int signal) => 1UL << (signal - 1);

    /// <summary>Signals that must never be blocked on a guest thread: faults, KILL/STOP, SIGRTMIN, the engine's kick.</summary>
    public static readonly ulong Unblockable =
        Bit(4) | Bit(5) | Bit(7) | Bit(8) | Bit(9) | Bit(11) | Bit(19) | Bit(34) | Bit(Dispatch.ThreadStopper.KickSignal);

    public static void BlockAsynchronous(KernelInterface kernel) => Set(kernel, ~Unblockable);

    public static void Set(KernelInterface kernel, ulong mask)
    {
        ulong set = mask;
        kernel.Call(SyscallNumbers.RtSigprocmask, SigSetMask, (long)&set, 0, 8);
    }
}
