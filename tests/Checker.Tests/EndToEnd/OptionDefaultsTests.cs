using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Defaults a team sets once, as Valgrind reads ~/.valgrindrc, VALGRIND_OPTS and ./.valgrindrc:
/// ~/.memcheckrc, MEMCHECK_OPTIONS, ./.memcheckrc, then the command line, a later value winning;
/// a bad option in any of them is one line naming where it was, and exit 2. And -q, -v,
/// --num-callers as a Valgrind user types them.
/// </summary>
public class OptionDefaultsTests
{
    private static RunResult Run(string directory, IReadOnlyDictionary<string, string?> environment, params string[] options) =>
        MemcheckLauncher.Run([.. options, "--", CaseBinaries.Get("error_kinds"), "heap-overflow"], environment: environment, workingDirectory: directory);

    /// <summary>A working directory and a HOME of its own (no rc file of the machine's applies).</summary>
    private static (string Directory, Dictionary<string, string?> Environment) Fresh(string name)
    {
        string directory = Scratch.NewDirectory(name), home = Path.Combine(directory, "home");
        Directory.CreateDirectory(home);
        return (directory, new Dictionary<string, string?> { ["HOME"] = home, ["MEMCHECK_OPTIONS"] = null });
    }

    [Fact]
    public void TheEnvironmentVariableGivesDefaults()
    {
        var (directory, environment) = Fresh("rc-env");
        environment["MEMCHECK_OPTIONS"] = "--error-exitcode=17   -q";
        RunResult run = Run(directory, environment);
        Assert.True(run.ExitCode == 17, run.StderrText);
        Assert.Contains("Error #1: UNADDRESSABLE ACCESS", run.StderrText);
        Assert.DoesNotContain("ERRORS FOUND", run.StderrText);
    }

    [Fact]
    public void TheFilesComeInValgrindsOrderAndTheCommandLineWins()
    {
        var (directory, environment) = Fresh("rc-order");
        File.WriteAllText(Path.Combine(environment["HOME"]!, ".memcheckrc"), "# the team's\n--error-exitcode=11\n--leak-check=full\n");
        Assert.Equal(11, Run(directory, environment).ExitCode);
        environment["MEMCHECK_OPTIONS"] = "--error-exitcode=12";
        Assert.Equal(12, Run(directory, environment).ExitCode);
        File.WriteAllText(Path.Combine(directory, ".memcheckrc"), "--error-exitcode=13\n");
        Assert.Equal(13, Run(directory, environment).ExitCode);
        Assert.Equal(14, Run(directory, environment, "--error-exitcode=14").ExitCode);
    }

    [Theory]
    [InlineData("env", "--leak-check=sometimes")]
    [InlineData("env", "--no-such-option")]
    [InlineData("env", "program-name")]
    [InlineData("local", "--error-exitcode=300")]
    [InlineData("home", "--tool=helgrind")]
    public void ABadOptionInADefaultIsOneLineNamingItsSource(string where, string option)
    {
        var (directory, environment) = Fresh("rc-bad");
        string source;
        switch (where)
        {
            case "env":
                environment["MEMCHECK_OPTIONS"] = option;
                source = "MEMCHECK_OPTIONS";
                break;
            case "local":
                source = Path.Combine(directory, ".memcheckrc");
                File.WriteAllText(source, option + "\n");
                break;
            default:
                source = Path.Combine(environment["HOME"]!, ".memcheckrc");
                File.WriteAllText(source, option + "\n");
                break;
        }
        RunResult run = Run(directory, environment);
        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.StdoutText);
        string line = Assert.Single(run.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"memcheck: {source}: ", line);
    }

    [Fact]
    public void QuietShowsErrorsOnlyAndVerboseShowsTheOptionsInEffect()
    {
        var (directory, environment) = Fresh("quiet-verbose");
        RunResult quiet = Run(directory, environment, "-q");
        Assert.Contains("Error #1: UNADDRESSABLE ACCESS", quiet.StderrText);
        Assert.DoesNotContain("ERRORS FOUND", quiet.StderrText);
        Assert.Equal("heap-overflow 0\n", quiet.StdoutText);

        RunResult clean = MemcheckLauncher.Run(["--quiet", "--", CaseBinaries.Get("error_kinds"), "none"], environment: environment, workingDirectory: directory);
        Assert.DoesNotContain(clean.StderrText.Split('\n'), MemcheckLauncher.IsMessageLine);

        environment["MEMCHECK_OPTIONS"] = "--leak-check=full";
        RunResult verbose = Run(directory, environment, "-v");
        string options = verbose.StderrText.Split('\n').Single(l => l.StartsWith("memcheck: Options: "));
        Assert.Contains("--leak-check=full", options);
        Assert.Contains("--verbose=yes", options);
        Assert.Contains($"memcheck: Command: {CaseBinaries.Get("error_kinds")} heap-overflow", verbose.StderrText);
        Assert.Contains("ERRORS FOUND", verbose.StderrText);
    }

    [Fact]
    public void NumCallersBoundsEveryStack()
    {
        var (directory, environment) = Fresh("num-callers");
        RunResult one = Run(directory, environment, "--num-callers=1");
        string[] frames = one.StderrText.Split('\n').Where(l => l.StartsWith("memcheck: #")).ToArray();
        Assert.NotEmpty(frames);
        Assert.All(frames, f => Assert.StartsWith("memcheck: #0 ", f));
        RunResult two = Run(directory, environment, "--num-callers", "2");
        Assert.Contains(two.StderrText.Split('\n'), l => l.StartsWith("memcheck: #1 main "));
    }
}
