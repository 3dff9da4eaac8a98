using Checker.MemcheckTool;
using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.Dispatch;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Reports;

namespace Checker.Memcheck;

/// <summary>
/// Ends memcheck the way the guest ended: its exit status, or death by its signal. Every way out
/// runs the leak check (Valgrind runs it on a fatal signal too), prints the summary and writes the
/// JSON before memcheck goes.
/// </summary>
[SupportedOSPlatform("linux")]
public static class GuestTermination
{
    public static int Finish(GuestRun run, GuestOutcome outcome, ReportSession reports, MemcheckSettings settings)
    {
        bool summary = run.Tool is MemoryCheckTool;
        switch (outcome)
        {
            case GuestOutcome.Exited exited when run.Process.IsVforkChild && reports.NothingOfItsOwn:
                // A vfork child that found nothing (posix_spawn's, after a failed exec): natively it
                // shares its parent's memory, so its heap is the parent's, and no report is its own.
                Console.Error.Flush();
                run.Kernel.Call(231, exited.Status);
                return exited.Status;
            case GuestOutcome.Exited exited:
            {
                ScanForLeaks(run, reports);
                int status = reports.Finish(exited.Status, summary);
                Console.Error.Flush();
                // After the report: the next run of the program starts from these translations.
                run.SaveTranslations();
                // exit_group straight away: the guest has flushed its own buffers, and nothing of
                // the host's shutdown is needed (nor wanted: it costs milliseconds).
                run.Kernel.Call(231, status);
                return status;
            }
            case GuestOutcome.Signalled s:
                reports.WriteNote($"the program was killed by {Signals.Name(s.Signal)} (its own, with the default action)", []);
                reports.OnDeath(new DeathInfo(s.Signal, Signals.Name(s.Signal), "sent by the program to itself"));
                return Die(run, reports, s.Signal, summary, saveTranslations: true);
            case GuestOutcome.Stopped stopped when reports.HasEngineFailure:
                // A signal the program has a handler for (TerminationSignals): the failure is told already.
                reports.Finish(ExitCodes.EngineFailure, summary);
                Console.Error.Flush();
                run.Kernel.Call(231, ExitCodes.EngineFailure);
                return ExitCodes.EngineFailure;
            case GuestOutcome.Stopped stopped:
                reports.WriteNote($"the program was killed by {Signals.Name(stopped.Signal)}", []);
                reports.OnDeath(new DeathInfo(stopped.Signal, Signals.Name(stopped.Signal), "sent from outside"));
                return Die(run, reports, stopped.Signal, summary, saveTranslations: false);
            case GuestOutcome.EngineFailed failed:
            {
                Exception e = failed.Error;
                // The failure first, then what was found so far (never "NO ERRORS FOUND" after it), and the JSON.
                string message = e is EngineException ? e.Message : $"internal error: {e.GetType().Name}: {e.Message}";
                // For memcheck's developers: the .NET stack of an internal error (never shown to users otherwise).
                if (e is not EngineException && Environment.GetEnvironmentVariable("MEMCHECK_TRACE") == "1") Console.Error.WriteLine(e);
                Program.Fail(ExitCodes.EngineFailure, $"engine failure: {message}");
                reports.OnEngineFailure(message);
                reports.Finish(ExitCodes.EngineFailure, summary);
                Console.Error.Flush();
                run.Kernel.Call(231, ExitCodes.EngineFailure);
                return ExitCodes.EngineFailure;
            }
            case GuestOutcome.Faulted { Signal: 0 } f:
            {
                string message = $"cannot translate the instruction at 0x{f.Pc:x}: {f.Fault.Instruction}";
                Program.Fail(ExitCodes.EngineFailure, "engine failure: " + message);
                reports.OnEngineFailure(message);
                reports.Finish(ExitCodes.EngineFailure, summary);
                return ExitCodes.EngineFailure;
            }
            case GuestOutcome.Faulted f:
                reports.OnDeath(CrashReport.Report(f.Fault, run.Process.Mappings, (run.Program.StackLimit, run.Program.StackTop), reports,
                    settings.CallstackMaxFrames));
                return Die(run, reports, f.Signal, summary, saveTranslations: true);
            default:
                throw new InvalidOperationException(outcome.ToString());
        }
    }

    /// <summary>
    /// The report, then death by <paramref name="signal"/>. A program that died of its own signal
    /// (abort in a failing test, a crash) keeps its translations like one that exited; one killed from
    /// outside (a timeout's SIGTERM) does not spend its last moments writing them.
    /// </summary>
    private static int Die(GuestRun run, ReportSession reports, int signal, bool summary, bool saveTranslations)
    {
        ScanForLeaks(run, reports);
        reports.Finish(128 + signal, summary);
        Console.Error.Flush();
        if (saveTranslations) run.SaveTranslations();
        HostProcess.DieBy(signal);
        return 128 + signal;
    }

    private static void ScanForLeaks(GuestRun run, ReportSession reports)
    {
        if (reports.WantsLeakScan && run.Tool is MemoryCheckTool checks) reports.OnLeaks(checks.ScanForLeaks());
    }
}
