using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Dispatch;

/// <summary>
/// A host thread running guest code: owns its context block and points gs at it. gs is free on
/// Linux x64 (the CLR and glibc use fs), so generated code reaches the block with one segment prefix.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class GuestThread
{
    private const int ArchSetGs = 0x1001;

    private GuestThread(ContextBlock* context) => Context = context;

    public ContextBlock* Context { get; }

    /// <summary>
    /// The alternate signal stack of a guest thread: the fault and kick handlers run on it, so a
    /// guest rsp that is unusable (a stack overflow, a smashed rsp) cannot kill memcheck silently.
    /// </summary>
    private const ulong AltStackSize = 256 << 10;

    public static GuestThread CreateOnCurrentThread(KernelInterface kernel)
    {
        ulong block = HostMemory.MapAnonymous(0, (ulong)ContextOffsets.Size, LibC.ProtRead | LibC.ProtWrite);
        var context = (ContextBlock*)block;
        context->Self = block;
        context->Rflags = 0x202;
        // XRSTOR loads MXCSR from the legacy area even for init state: give the guest the ABI default.
        *(uint*)(block + ContextOffsets.XsaveArea + 24) = 0x1f80;
        long r = kernel.Call(SyscallNumbers.ArchPrctl, ArchSetGs, (long)block);
        if (r != 0) throw new EngineException($"arch_prctl(ARCH_SET_GS) failed: {r}");
        context->ThreadId = kernel.Call(SyscallNumbers.Gettid);
        InstallAltStack(kernel);
        HostSignalMask.BlockAsynchronous(kernel);
        return new GuestThread(context);
    }

    private static void InstallAltStack(KernelInterface kernel)
    {
        // A guard page below, so an overflow of the handler's own stack faults instead of writing on.
        ulong guard = HostMemory.MapAnonymous(0, AltStackSize + HostMemory.PageSize, LibC.ProtNone);
        HostMemory.Protect(guard + HostMemory.PageSize, AltStackSize, LibC.ProtRead | LibC.ProtWrite);
        ulong* stack = stackalloc ulong[3] { guard + HostMemory.PageSize, 0, AltStackSize };
        long r = kernel.Call(SyscallNumbers.Sigaltstack, (long)stack, 0);
        if (r != 0) throw new EngineException($"sigaltstack failed: {r}");
    }
}
