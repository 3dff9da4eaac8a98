using System.Runtime.InteropServices;

namespace Checker.Memcheck;

/// <summary>
/// What Native/initial_signals.c recorded before the runtime started. Linked statically into the
/// NativeAOT executable (DirectPInvoke); other builds report nothing ignored.
/// </summary>
internal static partial class StartupShim
{
    [LibraryImport("checker_startup", EntryPoint = "checker_initial_ignored_signals")]
    private static partial ulong InitialIgnoredSignals();

    /// <summary>Bit n-1 set: signal n was SIG_IGN when memcheck was executed.</summary>
    public static ulong IgnoredAtStart()
    {
        try { return InitialIgnoredSignals(); }
        catch (DllNotFoundException) { return 0; }
        catch (EntryPointNotFoundException) { return 0; }
    }
}
