using System.Diagnostics;
using System.Text.Json;
using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// `memcheck nudge PID` makes a running checked process report its leaks now (stderr and
/// FILE.nudge-K next to --json FILE) and go on; `--new` reports only the leaks found since the
/// previous nudge. The program's own waits never see the nudge.
/// </summary>
public class NudgeTests
{
    private static void WaitFor(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    private static JsonElement NudgeReport(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.Clone();
    }

    [Fact]
    public void ASleepingProgramNudgedThrice_ReportsItsLeakThenOnlyTheNewOneThenBothAndFinishes()
    {
        string dir = Scratch.NewDirectory("nudge");
        string json = Path.Combine(dir, "report.json"), go1 = Path.Combine(dir, "go1"), go2 = Path.Combine(dir, "go2");
        var start = new ProcessStartInfo(MemcheckLauncher.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])["--json", json, "--", CaseBinaries.Get("nudge_sleeper"), go1, go2]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.Equal("leaked 1", process.StandardOutput.ReadLine());

        var first = MemcheckLauncher.Run(["nudge", process.Id.ToString()]);
        Assert.True(first.ExitCode == 0, first.StderrText);
        WaitFor(() => File.Exists(json + ".nudge-1"), "the first nudge's report");
        File.WriteAllText(go1, "");
        Assert.Equal("leaked 2", process.StandardOutput.ReadLine());

        var second = MemcheckLauncher.Run(["nudge", "--new", process.Id.ToString()]);
        Assert.True(second.ExitCode == 0, second.StderrText);
        WaitFor(() => File.Exists(json + ".nudge-2"), "the second nudge's report");
        var third = MemcheckLauncher.Run(["nudge", process.Id.ToString()]);
        Assert.True(third.ExitCode == 0, third.StderrText);
        WaitFor(() => File.Exists(json + ".nudge-3"), "the third nudge's report");
        File.WriteAllText(go2, "");
        string rest = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000));
        string context = stderr.Result;
        Assert.True(process.ExitCode == 0 && rest == "done\n", $"exit {process.ExitCode}, stdout {rest}\n{context}");

        JsonElement one = NudgeReport(json + ".nudge-1");
        Assert.Equal(1, one.GetProperty("nudge").GetInt32());
        JsonElement leak1 = Assert.Single(one.GetProperty("errors").EnumerateArray());
        Assert.Equal("leak", leak1.GetProperty("kind").GetString());
        AssertFrame(leak1.GetProperty("stack")[0], "main", "nudge_sleeper.c", Line("nudge_sleeper.c", "LINE_FIRST"), context);

        JsonElement two = NudgeReport(json + ".nudge-2");
        JsonElement leak2 = Assert.Single(two.GetProperty("errors").EnumerateArray());
        AssertFrame(leak2.GetProperty("stack")[0], "main", "nudge_sleeper.c", Line("nudge_sleeper.c", "LINE_SECOND"), context);
        // A plain nudge again: both leaks, the first one reported a second time.
        JsonElement three = NudgeReport(json + ".nudge-3");
        Assert.Equal(2, three.GetProperty("errors").GetArrayLength());
        Assert.Contains("nudge 1: the leak check while the program runs", context);
        Assert.Contains("nudge 2: the leak check while the program runs (only leaks new since the last nudge)", context);
    }

    [Theory]
    [InlineData(new[] { "nudge" }, 2)]
    [InlineData(new[] { "nudge", "abc" }, 2)]
    [InlineData(new[] { "nudge", "--new" }, 2)]
    [InlineData(new[] { "nudge", "2147483000" }, 1)]
    public void BadNudges_OneLineAndAnExitCode(string[] args, int exitCode)
    {
        var run = MemcheckLauncher.Run(args);
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}: {run.StderrText}");
        Assert.Single(run.StderrText.TrimEnd('\n').Split('\n'));
        Assert.StartsWith(MemcheckLauncher.MessagePrefix, run.StderrText);
    }
}
