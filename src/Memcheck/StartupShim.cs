using Checker.Engine.State;
using System.Runtime.InteropServices;
using Checker.Engine.Syscalls;

namespace Checker.Memcheck;

/// <summary>
/// What the C linked into the executable (Native/*.c) recorded before the runtime started. Linked
/// statically into the NativeAOT executable (DirectPInvoke); other builds report nothing ignored
/// and have no descriptor range.
/// </summary>
internal static unsafe partial class StartupShim
{
    [LibraryImport("checker_startup", EntryPoint = "checker_initial_ignored_signals")]
    private static partial ulong InitialIgnoredSignals();

    [LibraryImport("checker_startup", EntryPoint = "checker_initial_signal_mask")]
    private static partial ulong InitialSignalMask();

    [LibraryImport("checker_startup", EntryPoint = "checker_tool_descriptor_range")]
    private static partial int ToolDescriptorRange(int* start, int* end, ulong* soft, ulong* hard);

    [LibraryImport("checker_startup", EntryPoint = "checker_tool_descriptor_inherited")]
    private static partial int ToolDescriptorInherited(int fd);

    [LibraryImport("checker_startup", EntryPoint = "checker_context_tls_offset")]
    private static partial long ContextTlsOffset();

    [LibraryImport("checker_startup", EntryPoint = "checker_context_tls_size")]
    private static partial long ContextTlsSize();

    /// <summary>
    /// Gives the engine the displacement of the threads' context blocks in the executable's TLS
    /// (Native/context_tls.c); false in a build without it, which then cannot run a program.
    /// </summary>
    public static bool ConfigureContextTls()
    {
        try
        {
            Checker.Engine.State.ContextTls.Configure(ContextTlsOffset(), ContextTlsSize());
            return true;
        }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    /// <summary>Bit n-1 set: signal n was SIG_IGN when memcheck was executed.</summary>
    public static ulong IgnoredAtStart()
    {
        try { return InitialIgnoredSignals(); }
        catch (DllNotFoundException) { return 0; }
        catch (EntryPointNotFoundException) { return 0; }
    }

    /// <summary>The signal mask memcheck was executed with (bit n-1 for signal n): the guest's to start with.</summary>
    public static ulong SignalMaskAtStart()
    {
        try { return InitialSignalMask(); }
        catch (DllNotFoundException) { return 0; }
        catch (EntryPointNotFoundException) { return 0; }
    }

    /// <summary>memcheck's descriptor range (Native/tool_descriptors.c), or null without one.</summary>
    public static DescriptorRange? Descriptors()
    {
        try
        {
            int start, end;
            ulong soft, hard;
            if (ToolDescriptorRange(&start, &end, &soft, &hard) == 0) return null;
            var inherited = Enumerable.Range(start, end - start).Where(fd => ToolDescriptorInherited(fd) != 0);
            return new DescriptorRange(start, end, soft, hard, inherited);
        }
        catch (DllNotFoundException) { return null; }
        catch (EntryPointNotFoundException) { return null; }
    }
}
