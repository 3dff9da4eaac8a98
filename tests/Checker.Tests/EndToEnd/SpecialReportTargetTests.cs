using System.Diagnostics;
using System.Text.Json;
using Checker.Reports;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// A report file option naming a FIFO (a CI step reading the JSON as it comes) or a device
/// (/dev/null to discard it) is written in place. Report files are otherwise written beside the
/// target and renamed over it: over /dev/null, run as root, that replaced the device with a
/// regular file for the whole machine.
/// </summary>
public class SpecialReportTargetTests
{
    [Fact]
    public void AFifoTargetGetsTheJsonAndStaysAFifo()
    {
        string program = CaseBinaries.Get("child_heap_bug");
        string fifo = Path.Combine(Scratch.NewDirectory("json-fifo"), "report.json");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        Assert.True(ReportFile.IsSpecial(fifo), "mkfifo made no FIFO");
        // The reader opens first (opening a FIFO for writing waits for one).
        Task<byte[]> reader = Task.Run(() => File.ReadAllBytes(fifo));

        RunResult run = MemcheckLauncher.Run(["--json", fifo, "--", program]);
        string context = $"{run.CommandLine}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";

        Assert.True(run.ExitCode == 3, context);
        Assert.True(reader.Wait(TimeSpan.FromSeconds(60)), "nothing was written to the FIFO\n" + context);
        using JsonDocument document = JsonDocument.Parse(reader.Result);
        JsonElement error = Assert.Single(document.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        MemcheckJson.AssertFrame(error.GetProperty("stack")[0], "main", "child_heap_bug.c", MemcheckJson.Line("child_heap_bug.c", "LINE_CHILD_OVERFLOW"), context);
        Assert.True(ReportFile.IsSpecial(fifo), "the FIFO was replaced by a regular file\n" + context);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(fifo)!).Where(f => f != fifo));
    }
}
