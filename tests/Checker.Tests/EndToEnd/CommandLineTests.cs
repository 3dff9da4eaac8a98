using System.Text.RegularExpressions;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>memcheck's own options, exit status propagation and PATH search.</summary>
public class CommandLineTests
{
    [Fact]
    public void Version_PrintsAVersionLineAndExitsZero()
    {
        var result = MemcheckLauncher.Run(["--version"]);

        Assert.True(result.ExitCode == 0, $"--version exited {result.ExitCode}: {result.StderrText}");
        var firstLine = result.StdoutText.Split('\n')[0];
        Assert.Matches(new Regex(@"\d+\.\d+"), firstLine);
    }

    [Fact]
    public void Version_IgnoresDefaultOptions()
    {
        // A test suite's MEMCHECK_OPTIONS must not make --version a usage error (as VALGRIND_OPTS does not).
        var result = MemcheckLauncher.Run(["--version"],
            environment: new Dictionary<string, string?> { ["MEMCHECK_OPTIONS"] = "--quiet --translation-cache=/tmp" });

        Assert.True(result.ExitCode == 0, $"--version exited {result.ExitCode}: {result.StderrText}");
        Assert.Matches(new Regex(@"\d+\.\d+"), result.StdoutText.Split('\n')[0]);
    }

    [Fact]
    public void Help_MentionsToolAndStatsAndExitsZero()
    {
        var result = MemcheckLauncher.Run(["--help"]);

        Assert.True(result.ExitCode == 0, $"--help exited {result.ExitCode}: {result.StderrText}");
        Assert.Contains("--tool", result.StdoutText);
        Assert.Contains("--stats", result.StdoutText);
    }

    [Fact]
    public void Stats_PrintsFragmentAndSyscallCountsToStderr()
    {
        var native = ProcessRunner.Run(CaseBinaries.HelloStatic, ["stats"]);
        var result = MemcheckLauncher.RunToolNone(CaseBinaries.HelloStatic, ["stats"], extraOptions: ["--stats"]);

        NativeComparison.AssertSame(native, result);
        var lines = NativeComparison.MemcheckLines(result.Stderr);
        Assert.True(lines.Any(l => l.Contains("fragments")),
            $"no 'memcheck: ' line mentions fragments; stderr was:\n{result.StderrText}");
        Assert.True(lines.Any(l => l.Contains("syscalls")),
            $"no 'memcheck: ' line mentions syscalls; stderr was:\n{result.StderrText}");
    }

    [Fact]
    public void ExitStatus_OfStaticGuestIsPropagated()
    {
        var result = MemcheckLauncher.RunToolNone(CaseBinaries.HelloStatic, []);

        Assert.True(result.ExitCode == 3,
            $"expected the guest's exit status 3, got {result.ExitCode}; stderr:\n{result.StderrText}");
    }

    [Theory]
    [InlineData("/usr/bin/true", new string[0], 0)]
    [InlineData("/usr/bin/false", new string[0], 1)]
    [InlineData("/bin/sh", new[] { "-c", "exit 42" }, 42)]
    public void ExitStatus_OfDynamicGuestIsPropagated(string program, string[] args, int expected)
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(program, args);

        Assert.Equal(expected, native.ExitCode);
    }

    [Fact]
    public void ProgramWithoutSlash_IsSearchedInPath()
    {
        var environment = new Dictionary<string, string?> { ["PATH"] = "/nonexistent/bin:/usr/local/bin:/usr/bin:/bin" };
        var native = ProcessRunner.Run("/usr/bin/echo", ["found", "via", "PATH"], environment: environment);
        var result = MemcheckLauncher.RunToolNone("echo", ["found", "via", "PATH"], environment: environment);

        NativeComparison.AssertSame(native, result);
        Assert.Equal("found via PATH\n", result.StdoutText);
    }
}
