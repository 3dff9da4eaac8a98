using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.Dispatch;
using Checker.Engine.Native;
using Checker.Engine.State;

namespace Checker.Memcheck;

/// <summary>Ends memcheck the way the guest ended: its exit status, or death by its signal.</summary>
[SupportedOSPlatform("linux")]
public static class GuestTermination
{
    public static int Finish(GuestRun run, GuestOutcome outcome, ReportSession reports)
    {
        bool summary = run.Heap != null;
        switch (outcome)
        {
            case GuestOutcome.Exited exited:
                if (reports.WantsLeakScan && run.ScanForLeaks() is { } leaks) reports.OnLeaks(leaks);
                int status = reports.Finish(exited.Status, summary);
                Console.Error.Flush();
                // exit_group straight away: the guest has flushed its own buffers, and nothing of
                // the host's shutdown is needed (nor wanted: it costs milliseconds).
                run.Kernel.Call(231, status);
                return status;
            case GuestOutcome.Signalled s:
                reports.Finish(128 + s.Signal, summary);
                Console.Error.Flush();
                DieBy(s.Signal);
                return 128 + s.Signal;
            case GuestOutcome.Faulted { Signal: 0 } f:
                reports.Finish(ExitCodes.EngineFailure, summary);
                return Program.Fail(ExitCodes.EngineFailure, $"engine failure: cannot translate the instruction at 0x{f.Pc:x}: {f.Description}");
            case GuestOutcome.Faulted f:
                Console.Error.WriteLine(LinePrefix.Line($"the program was killed by {Signals.Name(f.Signal)} at 0x{f.Pc:x}: {f.Description}"));
                foreach (string frame in FaultFrames.Describe(f.Pc))
                    Console.Error.WriteLine(LinePrefix.Line($"  {frame}"));
                reports.Finish(128 + f.Signal, summary);
                Console.Error.Flush();
                DieBy(f.Signal);
                return 128 + f.Signal;
            default:
                throw new InvalidOperationException(outcome.ToString());
        }
    }

    private static void DieBy(int signal) => HostProcess.DieBy(signal);
}
