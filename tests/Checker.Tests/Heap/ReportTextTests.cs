using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// What the reports of real runs say and leave out: no thread note in a single-threaded program,
/// stacks that end at main unless --show-below-main=yes, normalised source paths, a pid on every
/// line once a process has forked, and only the kinds whose check ran in the summary.
/// </summary>
public class ReportTextTests
{
    private static readonly string[] StartFunctions = ["__libc_start_call_main", "__libc_start_main", "__libc_start_main_impl", "_start"];

    private static IEnumerable<JsonElement> AllStacks(MemcheckReport report) =>
        report.Errors.SelectMany(e => new[] { e.GetProperty("stack") }
            .Concat(e.TryGetProperty("block", out JsonElement block)
                ? new[] { block.GetProperty("alloc_stack") }.Concat(block.TryGetProperty("free_stack", out JsonElement free) ? [free] : [])
                : []));

    [Fact]
    public void ASingleThreadedProgramsErrorsNameNoThread()
    {
        MemcheckReport report = RunMemcheck(CaseBinaries.Get("heap_overflow_underflow"));
        Assert.True(report.Errors.Length == 4, report.Context);
        Assert.DoesNotContain("thread", report.Run.StderrText, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("heap_overflow_underflow")]
    [InlineData("heap_overflow_underflow.static")]
    [InlineData("heap_use_after_free")]
    public void StacksEndAtMainInTextAndJson(string program)
    {
        MemcheckReport report = RunMemcheck(CaseBinaries.Get(program));
        Assert.True(report.Errors.Length > 0, report.Context);
        foreach (JsonElement stack in AllStacks(report))
        {
            Assert.True(FunctionOf(stack[stack.GetArrayLength() - 1]) == "main", $"{Describe(stack)}\n{report.Context}");
        }
        foreach (string start in StartFunctions)
            Assert.DoesNotContain(start, report.Run.StderrText);
        // The text shows the same stacks: every frame list ends with a main line.
        string[] lines = report.Run.StderrText.Split('\n');
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            if (lines[i].StartsWith("memcheck: #", StringComparison.Ordinal) && !lines[i + 1].StartsWith("memcheck: #", StringComparison.Ordinal))
                Assert.True(lines[i].Contains(" main [", StringComparison.Ordinal), $"a stack ends at {lines[i]}\n{report.Context}");
        }
    }

    [Theory]
    [InlineData("--show-below-main=yes")]
    [InlineData("--show-below-main")]
    public void ShowBelowMainKeepsTheStartFunctions(string option)
    {
        MemcheckReport report = RunMemcheck(CaseBinaries.Get("heap_overflow_underflow"), option);
        foreach (JsonElement stack in AllStacks(report))
        {
            string[] functions = stack.EnumerateArray().Select(FunctionOf).ToArray();
            int main = Array.IndexOf(functions, "main");
            Assert.True(main >= 0 && functions.Skip(main + 1).Contains("__libc_start_call_main"), $"{Describe(stack)}\n{report.Context}");
        }
        Assert.Contains("__libc_start_call_main", report.Run.StderrText);
    }

    [Fact]
    public void SourcePathsAreNormalised()
    {
        // gcc records the source as given ("../cases/x.c") with the working directory as comp_dir.
        string output = Path.Combine(Scratch.NewDirectory("dotdot"), "heap_overflow_underflow");
        RunResult gcc = ProcessRunner.Run("gcc", ["-g", "-O0", "-o", output, "../cases/heap_overflow_underflow.c"], workingDirectory: RepoPaths.Cases);
        Assert.True(gcc.ExitCode == 0, gcc.StderrText);

        MemcheckReport report = RunMemcheck(output);
        Assert.True(report.Errors.Length == 4, report.Context);
        AssertFrame(report.Errors[0].GetProperty("stack")[0], "main", "heap_overflow_underflow.c",
            Line("heap_overflow_underflow.c", "LINE_READ_AFTER"), report.Context);
        Assert.DoesNotContain("/../", report.Run.StderrText);
        Assert.Contains($"[{Path.Combine(RepoPaths.Cases, "heap_overflow_underflow.c")}:", report.Run.StderrText);
    }

    [Fact]
    public void SummaryCountsOnlyTheChecksThatRan()
    {
        // Uninitialized reads are checked by default: their row is there, at 0, as every checked kind's.
        MemcheckReport report = RunMemcheck(CaseBinaries.Get("heap_overflow_underflow"));
        Assert.Contains("0 unique,     0 total uninitialized access(es)", report.Run.StderrText);
        Assert.Contains("unaddressable access(es)", report.Run.StderrText);
        Assert.Contains("byte(s) of leak(s)", report.Run.StderrText);
        string[] kinds = report.Root.GetProperty("summary").GetProperty("kinds").EnumerateObject().Select(k => k.Name).ToArray();
        Assert.Contains("uninitialized", kinds);
        Assert.Contains("unaddressable", kinds);
        Assert.Contains("leak", kinds);

        // Turned off: no row, never "0 found".
        MemcheckReport addressOnly = RunMemcheck(CaseBinaries.Get("heap_overflow_underflow"), "--check-uninitialized=no");
        Assert.DoesNotContain("uninitialized", addressOnly.Run.StderrText);
        Assert.DoesNotContain("uninitialized", addressOnly.Root.GetProperty("summary").GetProperty("kinds").EnumerateObject().Select(k => k.Name));

        // No leak check: no leak rows either.
        MemcheckReport noLeaks = RunMemcheck(CaseBinaries.Get("heap_overflow_underflow"), "--leak-check=no");
        Assert.DoesNotContain("leak", noLeaks.Run.StderrText);
        Assert.DoesNotContain("leak", noLeaks.Root.GetProperty("summary").GetProperty("kinds").EnumerateObject().Select(k => k.Name));
    }

    [Fact]
    public void AfterAForkEveryLineOfParentAndChildNamesItsPid()
    {
        string program = CaseBinaries.Get("fork_errors");
        RunResult run = MemcheckLauncher.Run(["--", program]);
        string context = $"{run.CommandLine}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";
        Assert.True(run.ExitCode == 0, context);

        // The program says which pid is which.
        string[] stdout = run.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int childPid = int.Parse(stdout.Single(l => l.StartsWith("child ", StringComparison.Ordinal))["child ".Length..]);
        string parentLine = stdout.Single(l => l.StartsWith("parent ", StringComparison.Ordinal));
        int parentPid = int.Parse(parentLine.Split(' ')[1]);
        Assert.NotEqual(childPid, parentPid);

        List<string> lines = NativeComparison.MemcheckLines(run.Stderr);
        // Before the fork: the plain prefix (the first error, the only one before it).
        int firstPid = lines.FindIndex(l => MemcheckLauncher.PidOf(l) != null);
        Assert.True(firstPid > 0, context);
        Assert.All(lines[..firstPid], l => Assert.StartsWith("memcheck: ", l + " "));
        Assert.Contains(lines[..firstPid], l => l.Contains($"fork_errors.c:{Line("fork_errors.c", "LINE_BEFORE_FORK")}]", StringComparison.Ordinal));
        // From the fork on: every line names its process, and each process reports its own error and summary.
        Assert.All(lines[firstPid..], l => Assert.True(MemcheckLauncher.PidOf(l) is int pid && (pid == childPid || pid == parentPid), $"{l}\n{context}"));
        string[] child = lines.Where(l => MemcheckLauncher.PidOf(l) == childPid).ToArray();
        string[] parent = lines.Where(l => MemcheckLauncher.PidOf(l) == parentPid).ToArray();
        Assert.Contains(child, l => l.Contains($"fork_errors.c:{Line("fork_errors.c", "LINE_CHILD")}]", StringComparison.Ordinal));
        Assert.Contains(parent, l => l.Contains($"fork_errors.c:{Line("fork_errors.c", "LINE_PARENT")}]", StringComparison.Ordinal));
        Assert.DoesNotContain(child, l => l.Contains($"fork_errors.c:{Line("fork_errors.c", "LINE_PARENT")}]", StringComparison.Ordinal));
        Assert.Contains(child, l => l.EndsWith("ERRORS FOUND:", StringComparison.Ordinal));
        Assert.Contains(parent, l => l.EndsWith("ERRORS FOUND:", StringComparison.Ordinal));
    }
}
