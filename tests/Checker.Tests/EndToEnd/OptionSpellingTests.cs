using System.Text.Json;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// The command line as a Valgrind user writes it: only the first <c>--</c> is memcheck's, Valgrind's
/// spellings of the options we share are accepted, and every value is checked before the program
/// runs (one line, exit 2, the program not started, never a .NET type name).
/// </summary>
public class OptionSpellingTests
{
    private static readonly Dictionary<string, string?> GitEnvironment = new()
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_PAGER"] = "cat",
        ["GIT_AUTHOR_NAME"] = "A",
        ["GIT_AUTHOR_EMAIL"] = "a@example.com",
        ["GIT_COMMITTER_NAME"] = "A",
        ["GIT_COMMITTER_EMAIL"] = "a@example.com",
        ["GIT_AUTHOR_DATE"] = "2024-01-01T00:00:00Z",
        ["GIT_COMMITTER_DATE"] = "2024-01-01T00:00:00Z",
    };

    /// <summary>A git repository with commits touching README.md and other.txt, so that "-- README.md" filters.</summary>
    private static string GitRepository()
    {
        string directory = Scratch.NewDirectory("git-log");
        void Git(params string[] args)
        {
            RunResult r = ProcessRunner.Run("git", args, environment: GitEnvironment, workingDirectory: directory);
            Assert.True(r.ExitCode == 0, $"{r.CommandLine}: {r.StderrText}");
        }
        Git("init", "-q");
        for (int i = 0; i < 3; i++)
        {
            File.WriteAllText(Path.Combine(directory, "README.md"), $"readme {i}\n");
            Git("add", "README.md");
            Git("commit", "-q", "-m", $"readme {i}");
            File.WriteAllText(Path.Combine(directory, "other.txt"), $"other {i}\n");
            Git("add", "other.txt");
            Git("commit", "-q", "-m", $"other {i}");
        }
        return directory;
    }

    [Theory]
    [InlineData(new object[] { new[] { "--" } })] // memcheck -- git log -- README.md
    [InlineData(new object[] { new string[0] })] // memcheck git log -- README.md: options end at the program's first word
    public void GitLogWithItsOwnDoubleDashRunsAsNatively(string[] beforeProgram)
    {
        string repository = GitRepository();
        string[] gitArgs = ["log", "--format=%s", "--", "README.md"];
        RunResult native = ProcessRunner.Run("git", gitArgs, environment: GitEnvironment, workingDirectory: repository);
        Assert.Equal("readme 2\nreadme 1\nreadme 0\n", native.StdoutText);

        string json = Path.Combine(Scratch.NewDirectory("git-log-json"), "report.json");
        RunResult memcheck = MemcheckLauncher.Run(["--json", json, .. beforeProgram, "git", .. gitArgs],
            environment: GitEnvironment, workingDirectory: repository);

        NativeComparison.AssertSame(native, memcheck);
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.Equal(["log", "--format=%s", "--", "README.md"], report.RootElement.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.True(report.RootElement.GetProperty("errors").GetArrayLength() == 0, memcheck.StderrText);
    }

    [Fact]
    public void LeakCheckYesIsFull()
    {
        string leaks = CaseBinaries.Get("leaks");
        string Kinds(MemcheckReport r) => string.Join(",", r.Errors.Select(e => $"{e.GetProperty("kind").GetString()}:{e.GetProperty("leak").GetProperty("bytes").GetInt32()}"));

        MemcheckReport full = MemcheckJson.RunMemcheck(leaks, "--leak-check=full");
        MemcheckReport yes = MemcheckJson.RunMemcheck(leaks, "--leak-check=yes");
        MemcheckReport yesSeparate = MemcheckJson.RunMemcheck(leaks, "--leak-check", "yes");

        Assert.True(full.Errors.Length >= 2, full.Context);
        Assert.Equal(Kinds(full), Kinds(yes));
        Assert.Equal(Kinds(full), Kinds(yesSeparate));
    }

    [Theory]
    [InlineData("--num-callers=2")]
    [InlineData("--num-callers", "2")]
    [InlineData("--callstack-max-frames=2")]
    public void NumCallersLimitsTheStacks(params string[] option)
    {
        // ns::f <- ns::C::m <- main at -O0: three frames unless limited.
        string program = CaseBinaries.Get("cxx_namespaced_frames");
        MemcheckReport limited = MemcheckJson.RunMemcheck(program, option);
        MemcheckReport whole = MemcheckJson.RunMemcheck(program);

        // A physical frame is a pc: frames inlined into one share it.
        static int Physical(JsonElement error) => error.GetProperty("stack").EnumerateArray().Select(f => f.GetProperty("pc").GetString()).Distinct().Count();
        Assert.Equal(3, Physical(whole.Errors[0]));
        Assert.All(limited.Errors, e => Assert.True(Physical(e) <= 2, limited.Context));
        Assert.Equal(["ns::f(int*)", "ns::C::m(int*)"], limited.Errors[0].GetProperty("stack").EnumerateArray().Select(MemcheckJson.FunctionOf));
    }

    [Theory]
    [InlineData("--tool=none")]
    [InlineData("--stats=no")]
    [InlineData("--stats=yes", "--stats=no")]
    [InlineData("--show-below-main=yes")]
    [InlineData("--show-below-main")]
    [InlineData("--error-exitcode=0")]
    [InlineData("--error-exitcode", "255")]
    [InlineData("--redzone-size=32", "--delay-frees-bytes=0")]
    [InlineData("--leak-check=no")]
    [InlineData("--num-callers=500", "--redzone-size=4096")] // Valgrind's upper bounds
    [InlineData("--json=@report.json")] // no response files: '@' starts a file name
    public void ValgrindSpellingsAreAccepted(params string[] options)
    {
        string directory = Scratch.NewDirectory("spellings");
        RunResult result = MemcheckLauncher.Run([.. options, "--", "/usr/bin/true"], workingDirectory: directory);
        Assert.True(result.ExitCode == 0, $"{result.CommandLine}: exit {result.ExitCode}\n{result.StderrText}");
    }

    [Theory]
    [InlineData(new[] { "--stats" }, true)]
    [InlineData(new[] { "--stats=yes" }, true)]
    [InlineData(new[] { "--stats=no" }, false)]
    [InlineData(new[] { "--stats", "--stats=no" }, false)]
    [InlineData(new string[0], false)]
    public void SwitchesReadAsGiven(string[] options, bool statistics)
    {
        RunResult result = MemcheckLauncher.Run(["--tool=none", .. options, "--", "/usr/bin/true"]);
        Assert.True(result.ExitCode == 0, result.StderrText);
        Assert.Equal(statistics, NativeComparison.MemcheckLines(result.Stderr).Any(l => l.Contains("fragments built", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(new[] { "--error-exitcode=7" }, 7)]
    [InlineData(new[] { "--error-exitcode", "9" }, 9)]
    [InlineData(new[] { "--error-exitcode=3", "--error-exitcode=5" }, 5)] // the last one counts, as under Valgrind
    [InlineData(new[] { "--error-exitcode=0" }, 0)] // Valgrind's "off"
    public void ErrorExitCodeAppliesWhenErrorsWereFound(string[] options, int expected)
    {
        RunResult result = MemcheckLauncher.Run([.. options, "--", CaseBinaries.Get("heap_overflow_underflow")]);
        Assert.True(result.ExitCode == expected, $"{result.CommandLine}: exit {result.ExitCode}\n{result.StderrText}");
        Assert.Contains("ERRORS FOUND:", result.StderrText);
    }

    /// <summary>Runs memcheck with <paramref name="options"/> on `touch MARKER` and checks it refused at start.</summary>
    private static void AssertRefusedAtStart(string[] options, string mentions)
    {
        string directory = Scratch.NewDirectory("refused");
        string marker = Path.Combine(directory, "the-program-ran");
        RunResult result = MemcheckLauncher.Run([.. options, "--", "/usr/bin/touch", marker]);

        string context = $"{result.CommandLine}\nexit {result.ExitCode}\nstderr:\n{result.StderrText}";
        string[] lines = result.StderrText.TrimEnd('\n').Split('\n');
        Assert.True(result.ExitCode == 2, context);
        Assert.True(lines.Length == 1 && lines[0].StartsWith(MemcheckLauncher.MessagePrefix, StringComparison.Ordinal), context);
        Assert.Contains(mentions, lines[0]);
        Assert.DoesNotContain("System.", lines[0]);
        Assert.DoesNotContain("Int32", lines[0]);
        Assert.DoesNotContain("UInt64", lines[0]);
        Assert.False(File.Exists(marker), $"the program ran: {context}");
    }

    [Theory]
    [InlineData("300")]
    [InlineData("256")]
    [InlineData("-1")]
    [InlineData("0x10")]
    [InlineData("seven")]
    public void ErrorExitCodeOutOfRangeIsRefused(string value)
    {
        AssertRefusedAtStart(["--error-exitcode", value], "--error-exitcode");
        AssertRefusedAtStart([$"--error-exitcode={value}"], "--error-exitcode");
    }

    [Theory]
    [InlineData("--redzone-size=abc", "--redzone-size")]
    [InlineData("--redzone-size=-16", "--redzone-size")]
    [InlineData("--redzone-size=99999999999999999999999", "--redzone-size")]
    [InlineData("--num-callers=0", "--num-callers")]
    [InlineData("--callstack-max-frames=501", "--callstack-max-frames")]
    [InlineData("--delay-frees-bytes=1e3", "--delay-frees-bytes")]
    [InlineData("--leak-check=maybe", "--leak-check")]
    [InlineData("--tool=helgrind", "--tool")]
    [InlineData("--stats=true", "--stats")]
    [InlineData("--show-below-main=1", "--show-below-main")]
    [InlineData("--json", "--json")]
    [InlineData("--json=", "--json")]
    [InlineData("--no-such-option", "--no-such-option")]
    public void BadValuesAreOneLineWithoutDotNetTypeNames(string option, string mentions) =>
        AssertRefusedAtStart([option], mentions);

    [Fact]
    public void JsonInAMissingDirectoryIsFoundBeforeTheProgramRuns()
    {
        string missing = Path.Combine(Scratch.NewDirectory("json-target"), "no-such-directory", "report.json");
        AssertRefusedAtStart(["--json", missing], missing);
    }

    [Fact]
    public void JsonNamingADirectoryIsFoundBeforeTheProgramRuns()
    {
        string directory = Scratch.NewDirectory("json-is-a-directory");
        AssertRefusedAtStart(["--json", directory], "is a directory");
    }

    [Fact]
    public void JsonWhereNoFileCanBeCreatedIsFoundBeforeTheProgramRuns()
    {
        // /proc takes no new files, even for root (the tests may run as root, which ignores modes).
        AssertRefusedAtStart(["--json=/proc/memcheck-report.json"], "/proc");
    }

    [Fact]
    public void JsonCheckLeavesNothingBehind()
    {
        string directory = Scratch.NewDirectory("json-probe");
        string json = Path.Combine(directory, "report.json");
        RunResult result = MemcheckLauncher.Run(["--json", json, "--", "/usr/bin/true"]);
        Assert.True(result.ExitCode == 0, result.StderrText);
        Assert.Equal([json], Directory.GetFiles(directory));
    }
}
