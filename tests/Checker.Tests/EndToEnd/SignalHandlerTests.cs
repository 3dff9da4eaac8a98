using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// The program's signal handlers run under memcheck as natively (signal_handlers.c): raise() with
/// SA_SIGINFO and SA_RESETHAND, a SIGSEGV handler that siglongjmps out, a handler that edits the
/// ucontext's pc and rax, an itimer ticking into pause(), SIGALRM interrupting a blocking read with
/// and without SA_RESTART, an alternate signal stack, a blocked signal left pending, alarm() breaking
/// a tight loop in linked code, pthread_cancel of a thread blocked in pause(), sigwaitinfo in a thread, a signalfd read after poll, a SIGEV_THREAD timer,
/// sigsuspend, SA_NODEFER.
/// </summary>
public class SignalHandlerTests
{
    public static TheoryData<string> Scenarios => new() { "raise", "segv", "ucontext", "itimer", "eintr", "restart", "altstack", "mask", "spin", "cancel", "sigwait", "signalfd", "chldinfo", "timer", "suspend", "nodefer" };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_SameOutputAsNative(string scenario)
    {
        string program = CaseBinaries.Get("signal_handlers");
        var native = ProcessRunner.Run(program, [scenario]);
        Assert.True(native.ExitCode == 0 && native.StdoutText.StartsWith(scenario + ":", StringComparison.Ordinal), native.StdoutText);
        foreach (string tool in new[] { "none", "memcheck" })
        {
            var run = MemcheckLauncher.Run(["--tool", tool, "--", program, scenario]);
            string context = $"{run.CommandLine}\nexit {run.ExitCode}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";
            Assert.True(run.ExitCode == 0 && run.StdoutText == native.StdoutText, $"native:\n{native.StdoutText}\n{context}");
        }
    }

    [Fact]
    public void NullWriteCaughtByTheProgramsHandler_IsReportedAndTheProgramGoesOn()
    {
        MemcheckReport report = RunMemcheckCommand([CaseBinaries.Get("signal_handlers"), "segv"]);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal("segv: recovered\n", report.Run.StdoutText);
        var error = Assert.Single(report.Errors);
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        Assert.Equal("main", FunctionOf(error.GetProperty("stack")[0]));
    }

    [Fact]
    public void WritesToPagesTheProgramProtected_HandledByIt_AreNoErrors_ANullWriteStillIs()
    {
        // A write barrier: pages made read-only, a SIGSEGV handler making the written page writable
        // so the write runs again (9 faults over 3 rounds). Valgrind reports none of those (it
        // tracks no write permission), only the null write the same handler catches; nor the
        // SIGBUS of a read past a mapped file's end that the program recovers from.
        string program = CaseBinaries.Get("handled_protection_faults");
        var native = ProcessRunner.Run(program, []);
        Assert.Contains("barrier faults 9, null write recovered\n", native.StdoutText);
        Assert.Contains("bus error recovered 1\n", native.StdoutText);
        MemcheckReport report = RunMemcheckCommand([program]);
        Assert.True(report.Run.ExitCode == 0 && report.Run.StdoutText == native.StdoutText, report.Context);
        var error = Assert.Single(report.Errors);
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        AssertFrame(error.GetProperty("stack")[0], "main", "handled_protection_faults.c", Line("handled_protection_faults.c", "LINE_NULL_WRITE"), report.Context);
    }

    [Fact]
    public void TheProgramsAlignmentCheckFlag_NeverReachesMemchecksOwnCode()
    {
        foreach (string tool in new[] { "none", "memcheck" })
        {
            var run = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get("alignment_check_flag")]);
            Assert.True(run.ExitCode == 0 && run.StdoutText == "ok 1\n", $"exit {run.ExitCode}\n{run.StderrText}");
        }
    }
}
