using System.Diagnostics;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// --log-file as a Valgrind user relies on it in CI: the whole text report goes to the file (the
/// program's own stderr stays clean), it is complete when the program crashes or is killed, %p
/// gives each process of a fork its own file, and a file that cannot be created is one line and
/// exit 2 before the program runs.
/// </summary>
public class LogFileTests
{
    private static string[] MemcheckLines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(MemcheckLauncher.IsMessageLine).ToArray();

    [Fact]
    public void TheReportGoesToTheFileAndStderrKeepsOnlyTheProgramsOwn()
    {
        string log = Path.Combine(Scratch.NewDirectory("log-file"), "memcheck.log");
        RunResult run = MemcheckLauncher.Run(["--log-file=" + log, "--error-exitcode=9", "--", CaseBinaries.Get("error_kinds"), "heap-overflow"]);
        Assert.True(run.ExitCode == 9, run.StderrText);
        Assert.Equal("heap-overflow 0\n", run.StdoutText);
        Assert.Empty(MemcheckLines(run.StderrText));
        string text = File.ReadAllText(log);
        Assert.Contains("Error #1: UNADDRESSABLE ACCESS beyond heap bounds", text);
        Assert.Contains($"heap_overflow [{Path.Combine(RepoPaths.Cases, "error_kinds.c")}:{MemcheckJson.Line("error_kinds.c", "LINE_OVERFLOW")}]", text);
        Assert.Contains("ERRORS FOUND:", text);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.True(MemcheckLauncher.IsMessageLine(line), line));
    }

    [Fact]
    public void ARelativeNameIsTheWorkingDirectorysAndAnExistingFileIsReplaced()
    {
        string directory = Scratch.NewDirectory("log-relative");
        File.WriteAllText(Path.Combine(directory, "out.log"), "stale text from an earlier run\n");
        RunResult run = MemcheckLauncher.Run(["--log-file", "out.log", "--", CaseBinaries.Get("error_kinds"), "none"], workingDirectory: directory);
        Assert.True(run.ExitCode == 3, run.StderrText);
        string text = File.ReadAllText(Path.Combine(directory, "out.log"));
        Assert.DoesNotContain("stale", text);
        Assert.Contains("NO ERRORS FOUND:", text);
    }

    [Fact]
    public void ACrashLeavesTheErrorTheDeathAndTheSummaryInTheFile()
    {
        string log = Path.Combine(Scratch.NewDirectory("log-crash"), "crash.log");
        RunResult run = MemcheckLauncher.Run(["--log-file=" + log, "--", CaseBinaries.Get("null_deref")]);
        Assert.Equal(128 + 11, run.ExitCode);
        Assert.Equal("before null dereference\n", run.StdoutText);
        string text = File.ReadAllText(log);
        Assert.Contains("Error #1: UNADDRESSABLE ACCESS", text);
        Assert.Contains("the program was killed by SIGSEGV", text);
        Assert.Contains("ERRORS FOUND:", text);
    }

    [Fact]
    public void SigtermStillWritesTheSummaryAndTheLeakCheckToTheFile()
    {
        string log = Path.Combine(Scratch.NewDirectory("log-term"), "term.log");
        var start = new ProcessStartInfo(MemcheckLauncher.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])["--log-file=" + log, "--", CaseBinaries.Get("terminate_me"), "pause"]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.Equal("ready", process.StandardOutput.ReadLine());
        Thread.Sleep(200);
        using (var kill = Process.Start("kill", ["-15", process.Id.ToString()])) kill.WaitForExit();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("memcheck did not end after SIGTERM");
        }
        Assert.Equal(128 + 15, process.ExitCode);
        Assert.Empty(MemcheckLines(stderr.Result));
        string text = File.ReadAllText(log);
        Assert.Contains("UNADDRESSABLE ACCESS", text);
        Assert.Contains("the program was killed by SIGTERM", text);
        Assert.Contains("ERRORS FOUND:", text);
        Assert.Contains("leak(s)", text);
    }

    [Fact]
    public void PercentPGivesEachProcessOfAForkItsOwnFile()
    {
        string directory = Scratch.NewDirectory("log-fork");
        RunResult run = MemcheckLauncher.Run(["--log-file=" + Path.Combine(directory, "m.%p.log"), "--", CaseBinaries.Get("fork_errors")]);
        Assert.True(run.ExitCode == 0, run.StderrText);
        Assert.Empty(MemcheckLines(run.StderrText));
        int child = int.Parse(run.StdoutText.Split('\n').Single(l => l.StartsWith("child ")).Split(' ')[1]);
        string[] files = Directory.GetFiles(directory).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(2, files.Length);
        string childLog = File.ReadAllText(Path.Combine(directory, $"m.{child}.log"));
        string parentLog = File.ReadAllText(Path.Combine(directory, files.Single(f => f != $"m.{child}.log")));
        int childLine = MemcheckJson.Line("fork_errors.c", "LINE_CHILD"), parentLine = MemcheckJson.Line("fork_errors.c", "LINE_PARENT");
        Assert.Contains($"fork_errors.c:{childLine}]", childLog);
        Assert.DoesNotContain($"fork_errors.c:{parentLine}]", childLog);
        Assert.Contains($"fork_errors.c:{parentLine}]", parentLog);
        Assert.DoesNotContain($"fork_errors.c:{childLine}]", parentLog);
        // The child's file holds only the child's lines from the fork on.
        Assert.All(MemcheckLines(childLog), line => Assert.Equal(child, MemcheckLauncher.PidOf(line)));
    }

    [Fact]
    public void WithoutPercentPAForkedChildAddsToTheSameFileUnderItsPid()
    {
        string log = Path.Combine(Scratch.NewDirectory("log-shared"), "shared.log");
        RunResult run = MemcheckLauncher.Run(["--log-file=" + log, "--", CaseBinaries.Get("fork_errors")]);
        Assert.True(run.ExitCode == 0, run.StderrText);
        int child = int.Parse(run.StdoutText.Split('\n').Single(l => l.StartsWith("child ")).Split(' ')[1]);
        string text = File.ReadAllText(log);
        Assert.Contains(MemcheckLines(text), line => MemcheckLauncher.PidOf(line) == child);
        Assert.Contains(MemcheckLines(text), line => MemcheckLauncher.PidOf(line) is int pid && pid != child);
        Assert.Contains($"fork_errors.c:{MemcheckJson.Line("fork_errors.c", "LINE_CHILD")}]", text);
        Assert.Contains($"fork_errors.c:{MemcheckJson.Line("fork_errors.c", "LINE_PARENT")}]", text);
    }

    [Fact]
    public void PercentQNamesAnEnvironmentVariable()
    {
        string directory = Scratch.NewDirectory("log-q");
        RunResult run = MemcheckLauncher.Run(["--log-file=" + Path.Combine(directory, "job-%q{CI_JOB}.log"), "--", CaseBinaries.Get("error_kinds"), "none"],
            environment: new Dictionary<string, string?> { ["CI_JOB"] = "4711" });
        Assert.True(run.ExitCode == 3, run.StderrText);
        Assert.Contains("NO ERRORS FOUND:", File.ReadAllText(Path.Combine(directory, "job-4711.log")));
    }

    [Theory]
    [InlineData("/nonexistent-directory/m.log")]
    [InlineData("/proc")]
    public void AFileThatCannotBeCreatedIsOneLineAndExit2(string path)
    {
        RunResult run = MemcheckLauncher.Run(["--log-file=" + path, "--", CaseBinaries.Get("error_kinds"), "none"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.StdoutText);
        string line = Assert.Single(run.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--log-file", line);
    }
}
