using System.Runtime.Versioning;
using Checker.Engine.Emission;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Dispatch;

/// <summary>
/// Installs the generated fault handler for the synchronous signals. A fault whose pc lies in the
/// code cache is the guest's: the handler resumes at a stub that exits to the dispatcher, which
/// reports the application pc and ends memcheck with the same signal. Any other fault is passed to
/// the handler that was there before (the .NET runtime's), or to the default action.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class FaultHandlers
{
    private const ulong SaSiginfo = 4, SaOnstack = 0x0800_0000, SaRestorer = 0x0400_0000, SaNodefer = 0x4000_0000;
    private static readonly int[] Synchronous = [4 /* ILL */, 5 /* TRAP */, 7 /* BUS */, 8 /* FPE */, 11 /* SEGV */];

    public static void Install(RuntimeRoutines routines, KernelInterface kernel)
    {
        var previous = (ulong*)routines.PreviousHandlers;
        ulong* action = stackalloc ulong[4] { routines.FaultHandler, SaSiginfo | SaOnstack | SaRestorer | SaNodefer, routines.SignalRestorer, 0 };
        ulong* old = stackalloc ulong[4];
        foreach (int signal in Synchronous)
        {
            long r = kernel.Call(SyscallNumbers.RtSigaction, signal, (long)action, (long)old, 8);
            if (r != 0) throw new EngineException($"cannot install the fault handler for signal {signal}: {r}");
            // Chaining needs an SA_SIGINFO-style handler; SIG_DFL/SIG_IGN become "reset and refault".
            previous[signal] = old[0] > 1 ? old[0] : routines.ResetToDefault;
        }
        // Host reads of guest memory copy directly now that a fault in the copy is recovered.
        Native.GuestMemory.UseSafeCopy(routines.SafeCopy);
        // The kick restarts interrupted host calls: in C# code it only returns.
        const ulong SaRestart = 0x1000_0000;
        ulong* kick = stackalloc ulong[4] { routines.KickHandler, SaSiginfo | SaOnstack | SaRestorer | SaRestart, routines.SignalRestorer, 0 };
        long k = kernel.Call(SyscallNumbers.RtSigaction, ThreadStopper.KickSignal, (long)kick, 0, 8);
        if (k != 0) throw new EngineException($"cannot install the kick handler: {k}");
    }
}
