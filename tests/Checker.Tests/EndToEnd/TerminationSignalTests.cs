using System.Diagnostics;
using System.Text.Json;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// A checked program ended from outside (SIGTERM, SIGINT, SIGHUP, SIGUSR1) or by its own alarm
/// still gets its report: the summary, the leak check and the JSON, then memcheck dies of that
/// signal as the program would have. A signal the program has a handler for runs the handler.
/// </summary>
public class TerminationSignalTests
{
    private sealed record Ended(int ExitCode, string Stdout, string Stderr, JsonElement Json);

    /// <summary>Runs memcheck on terminate_me MODE, waits for "ready", sends <paramref name="signal"/> (0: none) and waits for the end.</summary>
    private static Ended Run(string mode, int signal, params string[] options)
    {
        string json = Path.Combine(Scratch.NewDirectory("terminate"), "report.json");
        var start = new ProcessStartInfo(MemcheckLauncher.Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])["--json", json, .. options, "--", CaseBinaries.Get("terminate_me"), mode]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string? ready = process.StandardOutput.ReadLine();
        Assert.Equal("ready", ready);
        if (signal != 0)
        {
            Thread.Sleep(200);   // into the spin or the pause
            using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()]);
            kill.WaitForExit();
        }
        string rest = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"memcheck did not end after signal {signal}\n{stderr.Result}");
        }
        Assert.True(File.Exists(json), $"no JSON after signal {signal}\n{stderr.Result}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        return new Ended(process.ExitCode, "ready\n" + rest, stderr.Result, document.RootElement.Clone());
    }

    [Theory]
    [InlineData("spin", 15)]
    [InlineData("pause", 15)]
    [InlineData("spin", 2)]
    [InlineData("pause", 1)]
    [InlineData("pause", 3)]
    [InlineData("spin", 10)]
    [InlineData("reignore", 15)]   // ignored for a while: memcheck's own handler is back, not SIG_DFL
    public void EndedFromOutside_SummaryLeakCheckAndJsonThenTheSameDeath(string mode, int signal)
    {
        Ended run = Run(mode, signal);
        string context = run.Stderr;
        Assert.True(run.ExitCode == 128 + signal, $"exit {run.ExitCode}\n{context}");
        Assert.Equal(signal, run.Json.GetProperty("signal").GetProperty("number").GetInt32());
        Assert.Equal(128 + signal, run.Json.GetProperty("exit_code").GetInt32());
        // The overflow before the signal is there, and the leak check ran (100 bytes, under ignored by default).
        Assert.Equal("unaddressable", Assert.Single(run.Json.GetProperty("errors").EnumerateArray()).GetProperty("kind").GetString());
        Assert.Equal(100UL, run.Json.GetProperty("summary").GetProperty("ignored").GetProperty("leak").GetProperty("bytes").GetUInt64());
        Assert.Contains("ERRORS FOUND:", context);
        Assert.Contains("the program was killed by", context);
    }

    [Fact]
    public void ItsOwnAlarmWithTheDefaultAction_DiesOfSigalrmWithTheReport()
    {
        Ended run = Run("alarm", 0);
        Assert.True(run.ExitCode == 128 + 14, $"exit {run.ExitCode}\n{run.Stderr}");
        Assert.Equal("SIGALRM", run.Json.GetProperty("signal").GetProperty("name").GetString());
        Assert.Contains("ERRORS FOUND:", run.Stderr);
    }

    [Fact]
    public void ItsOwnAlarmWithAHandler_RunsTheHandler()
    {
        Ended run = Run("handler", 0);
        Assert.True(run.ExitCode == 7 && run.Stdout.Contains("handled"), $"exit {run.ExitCode}\nstdout {run.Stdout}\n{run.Stderr}");
        Assert.Equal(7, run.Json.GetProperty("exit_code").GetInt32());
        Assert.False(run.Json.TryGetProperty("engine_failure", out _));
        Assert.Contains("ERRORS FOUND:", run.Stderr);
    }

    [Fact]
    public void ToolNone_SigtermStillKillsLikeNative()
    {
        Ended run = Run("spin", 15, "--tool", "none");
        Assert.True(run.ExitCode == 128 + 15, $"exit {run.ExitCode}\n{run.Stderr}");
        Assert.Equal(15, run.Json.GetProperty("signal").GetProperty("number").GetInt32());
    }

    /// <summary>
    /// Signals sent to a forked child are the child's own: a SIGTERM kills that child (with its
    /// report) and not the parent, which reads both statuses and exits 0; a child's SIGUSR1 handler runs.
    /// Before, the parent's signal thread took the child's signals (the parent died, the run hung).
    /// </summary>
    [Theory]
    [InlineData("memcheck")]
    [InlineData("none")]
    public void SignalsSentToAForkedChild_AreTheChilds(string tool)
    {
        RunResult run = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get("signal_forked_child")]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.StderrText}");
        Assert.Equal("terminated: killed by signal 15\nhandler: exit 3\nparent done\n", run.StdoutText);
    }

    /// <summary>
    /// raise(SIGSTOP) in a forked child stops it (it was taken for a death by the signal: the child's
    /// summary came at once, memcheck exited 147, and the parent's SIGCONT found nothing to continue);
    /// continued, the child goes on and its report comes at its real end.
    /// </summary>
    [Theory]
    [InlineData("memcheck")]
    [InlineData("none")]
    public void ItsOwnSigstop_StopsIt_AndSigcontGoesOn(string tool)
    {
        RunResult run = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get("stop_and_continue")]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.StderrText}");
        Assert.Equal("stopped 1 by 19\nchild continued\nexited 1 status 0\n", run.StdoutText);
        Assert.DoesNotContain("killed by", run.StderrText);
        if (tool == "memcheck")
            Assert.Contains($"stop_and_continue.c:{MemcheckJson.Line("stop_and_continue.c", "LINE_AFTER_CONTINUE")}]", run.StderrText);
    }

    /// <summary>
    /// SIGTSTP and SIGCONT from outside reach the program's handlers (they were left to the kernel:
    /// memcheck stopped and went on, the handlers never ran, and a child waiting for its handler hung);
    /// with the default action SIGTSTP/SIGTTOU stop the process with that signal (WSTOPSIG).
    /// </summary>
    [Theory]
    [InlineData("memcheck")]
    [InlineData("none")]
    public void JobControlSignals_RunTheProgramsHandlers_OrStopIt(string tool)
    {
        string program = CaseBinaries.Get("job_control");
        var native = ProcessRunner.Run(program, []);
        Assert.True(native.ExitCode == 0, native.StdoutText);
        Assert.Contains("child: SIGTSTP handler ran\n", native.StdoutText);
        RunResult run = MemcheckLauncher.Run(["--tool", tool, "--", program]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.StderrText}");
        Assert.Equal(native.StdoutText, run.StdoutText);
    }
}
