using System.Text.RegularExpressions;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Replaced functions run from the code cache (a clean call into C#, Dispatch/InterceptCalls) and
/// only fall back to the dispatcher's round trip when the guest's floating-point control state is
/// not the host's: --stats counts the calls that took the fallback. What the program sees is the
/// same either way: its MXCSR (rounding mode and sticky exception flags) survives the calls.
/// </summary>
public class ReplacedCallPathTests
{
    [Fact]
    public void ExceptionFlags_SurviveCallsMadeFromTheCache()
    {
        string program = CaseBinaries.Get("fpu_flags_across_malloc");
        var native = ProcessRunner.Run(program, []);
        var report = RunMemcheck(program, "--stats");
        Assert.Equal("raised 1 clear 1 sum 1000 (0.333333 inf)\n", native.StdoutText);
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        Assert.Empty(report.Errors);
        (long calls, long viaDispatcher) = Counts(report.Run.StderrText);
        Assert.True(calls >= 4000, report.Run.StderrText);
        Assert.Equal(0, viaDispatcher);
    }

    [Fact]
    public void ANonDefaultRoundingMode_TakesTheDispatchersPath()
    {
        string program = CaseBinaries.Get("rounding_across_malloc");
        var native = ProcessRunner.Run(program, []);
        var report = RunMemcheck(program, "--stats");
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        (long calls, long viaDispatcher) = Counts(report.Run.StderrText);
        // Its four calls under FE_UPWARD/FE_DOWNWARD (and any the rounding mode is still set for).
        Assert.InRange(viaDispatcher, 4, calls - 1);
    }

    private static (long Calls, long ViaDispatcher) Counts(string stderr) =>
        (Count(stderr, "intercepted calls"), Count(stderr, "through the dispatcher"));

    private static long Count(string stderr, string name)
    {
        Match m = Regex.Match(stderr, $@"^memcheck: +{Regex.Escape(name)} +([0-9]+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no '{name}' line in\n{stderr}");
        return long.Parse(m.Groups[1].Value);
    }
}
