using Checker.MemcheckTool;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine;
using Checker.MemcheckTool.Heap;

namespace Checker.Memcheck;

/// <summary>
/// `memcheck nudge [--new] PID`: makes a running checked process report its leaks now and go on
/// (Dr. Memory's nudge; with --new only the leaks found since the previous nudge, as Valgrind's
/// `leak_check increased`). The request is signal 63 queued with a payload that marks it as
/// memcheck's (Native/forwarded_signals.c), so a program's own use of signals is left alone.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class Nudge
{
    public const string Command = "nudge";
    /// <summary>The nudge's signal (SIGRTMAX-1); without memcheck's payload it is the program's.</summary>
    public const int Signal = 63;

    [LibraryImport("checker_startup", EntryPoint = "checker_nudge_send", SetLastError = true)]
    private static partial int Send(int pid, int mode);

    /// <summary>The command: one line and exit 2 for bad input (no such process: 1).</summary>
    public static int Run(string[] args)
    {
        bool onlyNew = args.Length == 2 && args[0] == "--new";
        string? pidText = args.Length == 1 ? args[0] : onlyNew ? args[1] : null;
        if (pidText == null || !int.TryParse(pidText, out int pid) || pid <= 0)
            return Program.Fail(ExitCodes.Usage, "usage: memcheck nudge [--new] PID");
        if (Send(pid, onlyNew ? 1 : 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return Program.Fail(errno == 3 /* ESRCH */ ? 1 : ExitCodes.Usage, $"cannot nudge process {pid}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return 0;
    }

    /// <summary>
    /// In the checked process, on memcheck's signal thread (<see cref="SignalListener"/>): one nudge
    /// (the leak check with every guest thread stopped, the report, the guest let go).
    /// </summary>
    public static Action<int> Handler(MemoryCheckTool checks, ReportSession reports)
    {
        int count = 0;
        return mode =>
        {
            if (checks.ScanForLeaksNow() is IReadOnlyList<LeakedBlock> leaks)
                reports.OnNudge(leaks, ++count, onlyNew: mode == 1);
        };
    }
}
