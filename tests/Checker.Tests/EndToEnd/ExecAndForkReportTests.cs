using System.Text.Json;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// A process that execs writes its report and its JSON first (the new program replaces it); an
/// exec that then fails is said so, and the run goes on to a JSON rewritten at the real end; a
/// forked child and its parent each keep their own JSON file.
/// </summary>
public class ExecAndForkReportTests
{
    private static JsonElement ReadJson(string path, string context)
    {
        Assert.True(File.Exists(path), $"no JSON at {path}\n{context}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.Clone();
    }

    private static string Context(RunResult run) => $"{run.CommandLine}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";

    [Fact]
    public void AProgramThatExecsWritesItsReportAndJsonFirst()
    {
        string program = CaseBinaries.Get("exec_after_error");
        string json = Path.Combine(Scratch.NewDirectory("exec-json"), "report.json");
        RunResult run = MemcheckLauncher.Run(["--json", json, "--", program]);
        string context = Context(run);

        Assert.True(run.ExitCode == 0, context); // /bin/true's status: the process became /bin/true
        Assert.Equal("missing: failed\n", run.StdoutText);
        // The exec that could not succeed (no such file) is not announced; the one to /bin/true is, once.
        List<string> lines = NativeComparison.MemcheckLines(run.Stderr);
        Assert.Single(lines, l => l.Contains("its report ends here", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("the program execs /bin/true: its report ends here", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("ERRORS FOUND:", StringComparison.Ordinal));

        JsonElement root = ReadJson(json, context);
        Assert.Equal("/bin/true", root.GetProperty("exec").GetProperty("program").GetString());
        Assert.False(root.TryGetProperty("exit_code", out _), context);
        JsonElement error = Assert.Single(root.GetProperty("errors").EnumerateArray());
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        MemcheckJson.AssertFrame(error.GetProperty("stack")[0], "main", "exec_after_error.c", MemcheckJson.Line("exec_after_error.c", "LINE_BEFORE_EXEC"), context);
    }

    [Fact]
    public void AnExecThatFailsAfterTheReportWasWrittenLetsTheRunGoOn()
    {
        string program = CaseBinaries.Get("exec_after_error");
        string directory = Scratch.NewDirectory("exec-refused");
        // Executable, but neither ELF nor script: the kernel refuses it (ENOEXEC) after memcheck announced it.
        string refused = Path.Combine(directory, "not-a-program");
        File.WriteAllText(refused, "plain text\n");
        File.SetUnixFileMode(refused, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string json = Path.Combine(directory, "report.json");
        RunResult run = MemcheckLauncher.Run(["--json", json, "--", program, refused]);
        string context = Context(run);

        Assert.True(run.ExitCode == 0, context);
        Assert.Equal("missing: failed\nrefused: failed\n", run.StdoutText);
        List<string> lines = NativeComparison.MemcheckLines(run.Stderr);
        int announced = lines.FindIndex(l => l.EndsWith($"the program execs {refused}: its report ends here", StringComparison.Ordinal));
        int failed = lines.FindIndex(l => l.EndsWith($"the exec of {refused} failed (Exec format error): the program goes on", StringComparison.Ordinal));
        int second = lines.FindIndex(l => l.Contains($"exec_after_error.c:{MemcheckJson.Line("exec_after_error.c", "LINE_AFTER_FAILED_EXEC")}]", StringComparison.Ordinal));
        int last = lines.FindIndex(l => l.EndsWith("the program execs /bin/true: its report ends here", StringComparison.Ordinal));
        Assert.True(announced >= 0 && announced < failed && failed < second && second < last, context);

        // The JSON as it stands at the last exec: both errors.
        JsonElement root = ReadJson(json, context);
        Assert.Equal("/bin/true", root.GetProperty("exec").GetProperty("program").GetString());
        Assert.Equal(2, root.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void ChildrenThatExecWithNothingOfTheirOwnWriteNoReport()
    {
        // system() and popen(): each forks a child that execs /bin/sh at once (natively here: with
        // --trace-children=yes each sh writes a report of its own, ChildProcessTests).
        string directory = Scratch.NewDirectory("system-json");
        string json = Path.Combine(directory, "report.json");
        RunResult run = MemcheckLauncher.Run(["--trace-children=no", "--json", json, "--", CaseBinaries.Get("system_popen")]);
        string context = Context(run);
        Assert.True(run.ExitCode == 0, context);
        Assert.DoesNotContain("its report ends here", run.StderrText);
        Assert.Equal([json], Directory.GetFiles(directory));
        Assert.Equal(0, ReadJson(json, context).GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public void AForkedChildAndItsParentEachKeepTheirJson()
    {
        string program = CaseBinaries.Get("fork_errors");
        string directory = Scratch.NewDirectory("fork-json");
        string json = Path.Combine(directory, "report.json");
        RunResult run = MemcheckLauncher.Run(["--json", json, "--", program]);
        string context = Context(run);
        Assert.True(run.ExitCode == 0, context);
        var (parentPid, childPid) = Pids(run);

        // The parent writes the file it was given, the child the same name with its pid.
        AssertForkReport(ReadJson(json, context), parentPid, "LINE_PARENT", "LINE_CHILD", context);
        AssertForkReport(ReadJson(Path.Combine(directory, $"report.{childPid}.json"), context), childPid, "LINE_CHILD", "LINE_PARENT", context);
        Assert.Equal(2, Directory.GetFiles(directory).Length);
    }

    [Fact]
    public void PercentPInTheJsonPathIsEachProcesssOwnPid()
    {
        string program = CaseBinaries.Get("fork_errors");
        string directory = Scratch.NewDirectory("fork-json-p");
        RunResult run = MemcheckLauncher.Run(["--json", Path.Combine(directory, "out-%p.json"), "--", program]);
        string context = Context(run);
        Assert.True(run.ExitCode == 0, context);
        var (parentPid, childPid) = Pids(run);

        AssertForkReport(ReadJson(Path.Combine(directory, $"out-{parentPid}.json"), context), parentPid, "LINE_PARENT", "LINE_CHILD", context);
        AssertForkReport(ReadJson(Path.Combine(directory, $"out-{childPid}.json"), context), childPid, "LINE_CHILD", "LINE_PARENT", context);
        Assert.Equal(2, Directory.GetFiles(directory).Length);
    }

    /// <summary>fork_errors prints "child PID" and "parent PID waited for CHILD".</summary>
    private static (int Parent, int Child) Pids(RunResult run)
    {
        string[] stdout = run.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int child = int.Parse(stdout.Single(l => l.StartsWith("child ", StringComparison.Ordinal))["child ".Length..]);
        int parent = int.Parse(stdout.Single(l => l.StartsWith("parent ", StringComparison.Ordinal)).Split(' ')[1]);
        return (parent, child);
    }

    /// <summary>A process's report: its pid, the error from before the fork, its own error and not the other process's.</summary>
    private static void AssertForkReport(JsonElement root, int pid, string ownMarker, string otherMarker, string context)
    {
        Assert.Equal(pid, root.GetProperty("pid").GetInt32());
        Assert.Equal(0, root.GetProperty("exit_code").GetInt32());
        int[] lines = [.. root.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("stack")[0].GetProperty("line").GetInt32())];
        Assert.Contains(MemcheckJson.Line("fork_errors.c", "LINE_BEFORE_FORK"), lines);
        Assert.True(lines.Contains(MemcheckJson.Line("fork_errors.c", ownMarker)), $"pid {pid}: no error at {ownMarker}\n{context}");
        Assert.False(lines.Contains(MemcheckJson.Line("fork_errors.c", otherMarker)), $"pid {pid}: the other process's error at {otherMarker}\n{context}");
    }
}
