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
/// memcheck's (Native/nudge_signal.c), so a program's own use of signals is left alone.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class Nudge
{
    public const string Command = "nudge";
    /// <summary>The nudge's signal (SIGRTMAX-1); without memcheck's payload it is the program's.</summary>
    public const int Signal = 63;

    [LibraryImport("checker_startup", EntryPoint = "checker_nudge_send", SetLastError = true)]
    private static partial int Send(int pid, int mode);

    [LibraryImport("checker_startup", EntryPoint = "checker_nudge_install", SetLastError = true)]
    private static partial int Install(int writeFd);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static unsafe partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, byte* buffer, nint count);

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
    /// In the checked process: takes nudges on a thread of its own and runs each one (the leak check
    /// with every guest thread stopped, the report, the guest let go); a plain signal 63 goes to the
    /// program as any other signal from outside.
    /// </summary>
    public static unsafe void Listen(MemoryCheckTool checks, ReportSession reports, TerminationSignals signals)
    {
        int* fds = stackalloc int[2];
        const int OCloexec = 0x80000;
        try
        {
            if (Pipe2(fds, OCloexec) != 0 || Install(fds[1]) != 0) return;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return;   // not the NativeAOT executable: no nudges
        }
        int readFd = fds[0];
        var listener = new Thread(() =>
        {
            int count = 0;
            byte request;
            while (true)
            {
                if (Read(readFd, &request, 1) != 1)
                {
                    if (Marshal.GetLastPInvokeError() == 4 /* EINTR */) continue;
                    return;
                }
                if ((request & 0x80) == 0)
                {
                    signals.Forward(Signal);
                    continue;
                }
                if (checks.ScanForLeaksNow() is IReadOnlyList<LeakedBlock> leaks)
                    reports.OnNudge(leaks, ++count, onlyNew: (request & 0x7f) == 1);
            }
        }, 1 << 20) { IsBackground = true, Name = "memcheck nudges" };
        listener.Start();
    }
}
