using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// What a CI job gates on: with --error-exitcode N, memcheck exits N when an unsuppressed error of
/// any kind was reported (uninitialized reads included) and with the program's own status (3 for
/// error_kinds.c) otherwise; leaks count only under --leak-check=full and only the kinds
/// --errors-for-leak-kinds names, as in Valgrind.
/// </summary>
public class ExitCodeTests
{
    private const int ProgramStatus = 3, Gate = 42;

    private static RunResult Run(string kind, params string[] options) =>
        MemcheckLauncher.Run(["--error-exitcode=42", .. options, "--", CaseBinaries.Get("error_kinds"), kind]);

    [Theory]
    [InlineData("heap-overflow", "unaddressable", "LINE_OVERFLOW")]
    [InlineData("use-after-free", "unaddressable", "LINE_UAF")]
    [InlineData("uninitialized", "uninitialized", "LINE_UNINIT")]
    [InlineData("syscall-param", "uninitialized", "LINE_PARAM")]
    [InlineData("double-free", "invalid-heap-arg", "LINE_DOUBLE_FREE")]
    [InlineData("overlap", "overlap", "LINE_OVERLAP")]
    public void EachKindOfErrorGivesTheGateStatus(string kind, string jsonKind, string marker)
    {
        MemcheckReport report = MemcheckJson.RunMemcheckCommand([CaseBinaries.Get("error_kinds"), kind], "--error-exitcode=42");
        Assert.True(report.Run.ExitCode == Gate, report.Context);
        Assert.Equal($"{kind} 0\n", report.Run.StdoutText);
        var error = Assert.Single(report.Errors);
        Assert.Equal(jsonKind, error.GetProperty("kind").GetString());
        int line = MemcheckJson.Line("error_kinds.c", marker);
        Assert.Contains(error.GetProperty("stack").EnumerateArray(), frame =>
            frame.TryGetProperty("line", out var l) && l.GetInt32() == line && frame.GetProperty("file").GetString()!.EndsWith("error_kinds.c"));
    }

    [Fact]
    public void NoErrorKeepsTheProgramsStatus()
    {
        RunResult run = Run("none", "--leak-check=full");
        Assert.True(run.ExitCode == ProgramStatus, run.StderrText);
        Assert.Contains("NO ERRORS FOUND", run.StderrText);
    }

    [Theory]
    // Valgrind's default: --leak-check=summary counts leaks, never as errors.
    [InlineData("definite-leak", ProgramStatus)]
    [InlineData("possible-leak", ProgramStatus)]
    [InlineData("definite-leak", Gate, "--leak-check=full")]
    [InlineData("possible-leak", Gate, "--leak-check=full")]
    [InlineData("definite-leak", Gate, "--leak-check=full", "--errors-for-leak-kinds=definite")]
    [InlineData("possible-leak", ProgramStatus, "--leak-check=full", "--errors-for-leak-kinds=definite")]
    [InlineData("possible-leak", Gate, "--leak-check=full", "--errors-for-leak-kinds=possible")]
    [InlineData("definite-leak", ProgramStatus, "--leak-check=full", "--errors-for-leak-kinds=none")]
    [InlineData("possible-leak", ProgramStatus, "--leak-check=full", "--errors-for-leak-kinds=none")]
    [InlineData("definite-leak", Gate, "--leak-check=full", "--errors-for-leak-kinds=all")]
    [InlineData("possible-leak", Gate, "--leak-check=yes", "--errors-for-leak-kinds=reachable,possible")]
    public void LeaksGateOnlyForTheKindsNamed(string kind, int status, params string[] options)
    {
        RunResult run = Run(kind, options);
        Assert.True(run.ExitCode == status, $"{run.CommandLine}\n{run.StderrText}");
        // Listed under full whether or not they gate: --errors-for-leak-kinds decides the status only.
        if (options.Contains("--leak-check=full") || options.Contains("--leak-check=yes"))
            Assert.Contains(kind == "definite-leak" ? "LEAK: 40 direct bytes" : "POSSIBLE LEAK: 100 bytes", run.StderrText);
    }

    [Theory]
    [InlineData("--errors-for-leak-kinds=sometimes")]
    [InlineData("--errors-for-leak-kinds=definite,maybe")]
    [InlineData("--errors-for-leak-kinds=")]
    public void ABadLeakKindListIsAUsageError(string option)
    {
        RunResult run = Run("none", option);
        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--errors-for-leak-kinds", line);
        Assert.Empty(run.StdoutText);
    }
}
