using System.Text.RegularExpressions;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Freed space beyond the delayed-free quota is reused, large blocks included: a buffer grown 32 KB
/// at a time, by malloc + free or by realloc, ends with no NULL and a resident size close to a few
/// of its largest blocks. The program caps its own resident memory (it stops with status 3 past
/// the cap), so a regression cannot take the machine.
/// </summary>
public class HeapReuseTests
{
    private const int CapMegabytes = 1024;

    [Theory]
    [InlineData("malloc", 2000)]    // blocks up to 64 MB: without reuse their sizes sum to the whole 64 GB arena
    [InlineData("realloc", 512)]    // up to 16 MB, each realloc moving (and copying) the buffer
    public void GrowingBufferReusesFreedSpace(string mode, int steps)
    {
        var report = RunMemcheckCommand([CaseBinaries.Get("heap_growth"), mode, steps.ToString(), "32768", CapMegabytes.ToString()]);
        string context = report.Context;
        Assert.True(report.Run.ExitCode == 0, $"exit {report.Run.ExitCode}: {report.Run.StdoutText}\n{context}");
        Match peak = Regex.Match(report.Run.StdoutText, @"^done\npeak (\d+) MB\n$");
        Assert.True(peak.Success, $"output: {report.Run.StdoutText}\n{context}");
        Assert.True(int.Parse(peak.Groups[1].Value) < CapMegabytes / 2, $"peak resident {peak.Groups[1].Value} MB\n{context}");
        Assert.Empty(report.Errors);
    }
}
