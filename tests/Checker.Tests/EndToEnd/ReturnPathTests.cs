using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Returns that do not go back to the call that pushed their address, or that the CPU's return
/// stack cannot predict, run as natively under both tools (return_paths.c): recursion far deeper
/// than any return stack, longjmp out of nested calls, a ret to an address the program pushed
/// itself, a callee returning to its caller's caller, ret imm16, swapcontext between stacks, and an
/// itimer's handler recursing while the program recurses. Written for the translation of calls
/// and rets through the CPU's return stack (a host address pushed, then overwritten with the
/// guest's; the host entry written into the return slot before a real ret: tried, measured slower,
/// reverted, see docs/ARCHITECTURE.md), where none of that may show; it guards any return path.
/// </summary>
public class ReturnPathTests
{
    public static TheoryData<string> Scenarios => new() { "deep", "longjmp", "written", "skip", "retimm", "context", "signal" };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_SameOutputAsNative_NoErrors(string scenario)
    {
        string program = CaseBinaries.Get("return_paths");
        var native = ProcessRunner.Run(program, [scenario]);
        Assert.True(native.ExitCode == 0 && native.StdoutText.StartsWith(scenario + ":", StringComparison.Ordinal), native.StdoutText);
        foreach (string tool in new[] { "none", "memcheck" })
        {
            var run = MemcheckLauncher.Run(["--tool", tool, "--", program, scenario]);
            string context = $"{run.CommandLine}\nexit {run.ExitCode}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";
            Assert.True(run.ExitCode == 0 && run.StdoutText == native.StdoutText, $"native:\n{native.StdoutText}\n{context}");
            if (tool == "memcheck") Assert.Contains("NO ERRORS FOUND", run.StderrText);
        }
    }
}
