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
        HostSignalMask.BlockAsynchronous(kernel);
        return new GuestThread(context);
    }
}
