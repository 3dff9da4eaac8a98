using Checker.Reports;
using Xunit;
using static Checker.Tests.Reports.ReportSamples;

namespace Checker.Tests.Reports;

/// <summary>The text report, line for line.</summary>
public class TextReportWriterTests
{
    private static string Lines(params string[] lines) => string.Concat(lines.Select(l => l + "\n"));

    [Fact]
    public void HeapErrorShowsHeadlineStackAndAllocationStack()
    {
        var output = new StringWriter();
        new TextReportWriter(output).WriteError(new ReportedError(1, Unaddressable(0x555555555149, 0x555555555200), 1));

        Assert.Equal(Lines(
            "memcheck:",
            "memcheck: Error #1: UNADDRESSABLE ACCESS beyond heap bounds: writing 1 byte(s) at 0x5000a 0 byte(s) beyond a 10-byte block",
            "memcheck: #0 main [/abs/x.c:7] (x+0x5149)",
            "memcheck: #1 caller1 [/abs/x.c:8] (x+0x5200)",
            "memcheck: Note: the 10-byte block at 0x50000 was allocated here:",
            "memcheck: #0 malloc+0x12 (libc.so.6+0x98942)",
            "memcheck: #1 main [/abs/x.c:5] (x+0x5140)"), output.ToString());
    }

    [Fact]
    public void FreedBlockShowsTheFreeStackAndAHeadlineWithoutDetailTakesAColon()
    {
        var record = new ErrorRecord(
            ErrorKind.InvalidHeapArgument,
            "free 0x50000: the block was already freed (double free)",
            Thread: 7,
            Stack: [new ReportFrame(0x7f0012345678)],
            Block: new BlockInfo(0x50000, 32, BlockState.Freed,
                AllocStack: [Frame(0x1111, "make", 3)],
                FreeStack: [new ReportFrame(0x2222, Exe, 0x2222, "drop", SymbolOffset: 0x4), new ReportFrame(0x3333, Exe, 0x3333)]));
        var output = new StringWriter();
        new TextReportWriter(output).WriteError(new ReportedError(3, record, 1));

        Assert.Equal(Lines(
            "memcheck:",
            "memcheck: Error #3: INVALID HEAP ARGUMENT: free 0x50000: the block was already freed (double free)",
            "memcheck: #0 ?? (0x7f0012345678)",
            "memcheck: Note: the 32-byte block at 0x50000 was allocated here:",
            "memcheck: #0 make [/abs/x.c:3] (x+0x1111)",
            "memcheck: Note: and freed here:",
            "memcheck: #0 drop+0x4 (x+0x2222)",
            "memcheck: #1 ?? (x+0x3333)"), output.ToString());
    }

    [Fact]
    public void RepeatsPrintNothingWhenWiredToTheCollector()
    {
        var output = new StringWriter();
        var writer = new TextReportWriter(output);
        var collector = new ErrorCollector(onFirstOccurrence: writer.WriteError);
        collector.Add(Leak(16, 0x1149));
        string afterFirst = output.ToString();
        collector.Add(Leak(16, 0x1149));
        collector.Add(Leak(32, 0x1149));

        Assert.Equal(afterFirst, output.ToString());
        Assert.Equal(Lines(
            "memcheck:",
            "memcheck: Error #1: LEAK: 16 direct bytes in 1 block",
            "memcheck: #0 main [/abs/x.c:7] (x+0x1149)"), afterFirst);
    }

    [Fact]
    public void TheThreadIsNamedOnlyOnceTheProgramHasHadAnother()
    {
        int threads = 1;
        var output = new StringWriter();
        var writer = new TextReportWriter(output, threadCount: () => threads);
        writer.WriteError(new ReportedError(1, Unaddressable(0x10), 1));
        Assert.DoesNotContain("thread", output.ToString());

        threads = 2;
        writer.WriteError(new ReportedError(2, Unaddressable(0x20), 1));
        Assert.Equal(1, output.ToString().Split('\n').Count(l => l == "memcheck: Note: in thread 4242"));
        Assert.Contains("memcheck: #0 main [/abs/x.c:7] (x+0x20)\nmemcheck: Note: in thread 4242\nmemcheck: Note: the 10-byte block", output.ToString());
    }

    [Fact]
    public void ThePrefixIsAskedForEachReport()
    {
        string prefix = "memcheck: ";
        var output = new StringWriter();
        var writer = new TextReportWriter(output, prefix: () => prefix);
        writer.WriteError(new ReportedError(1, Unaddressable(0x10), 1));
        prefix = "memcheck[4321]: ";
        writer.WriteSummary(new ErrorCollector().Summary());

        string[] lines = output.ToString().TrimEnd('\n').Split('\n');
        int summary = Array.IndexOf(lines, "memcheck[4321]:");
        Assert.True(summary > 0, output.ToString());
        Assert.All(lines[..summary], line => Assert.StartsWith("memcheck:", line));
        Assert.All(lines[summary..], line => Assert.StartsWith("memcheck[4321]:", line));
    }

    [Fact]
    public void SummaryListsOnlyTheKindsThatWereChecked()
    {
        var collector = new ErrorCollector(checkedKinds: [ErrorKind.Unaddressable, ErrorKind.InvalidHeapArgument]);
        collector.Add(Unaddressable(0x10));
        collector.Add(Leak(16, 0x20)); // reported all the same: shown, never hidden
        var output = new StringWriter();
        new TextReportWriter(output).WriteSummary(collector.Summary());

        Assert.Equal(Lines(
            "memcheck:",
            "memcheck: ERRORS FOUND:",
            "memcheck:       1 unique,     1 total unaddressable access(es)",
            "memcheck:       0 unique,     0 total invalid heap argument(s)",
            "memcheck:       1 unique,     1 total,     16 byte(s) of leak(s)"), output.ToString());
    }

    [Fact]
    public void SummaryTableGivesUniqueAndTotalPerKind()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x10));
        collector.Add(Unaddressable(0x10));
        collector.Add(Unaddressable(0x11));
        collector.Add(Leak(16, 0x20));
        collector.Add(Leak(1000, 0x21));
        var output = new StringWriter();
        new TextReportWriter(output).WriteSummary(collector.Summary());

        Assert.Equal(Lines(
            "memcheck:",
            "memcheck: ERRORS FOUND:",
            "memcheck:       2 unique,     3 total unaddressable access(es)",
            "memcheck:       0 unique,     0 total uninitialized access(es)",
            "memcheck:       0 unique,     0 total invalid heap argument(s)",
            "memcheck:       2 unique,     2 total,   1016 byte(s) of leak(s)",
            "memcheck:       0 unique,     0 total,      0 byte(s) of possible leak(s)",
            "memcheck:       0 unique,     0 total overlapping copy(ies)",
            "memcheck:       0 unique,     0 total fishy argument(s)"), output.ToString());
    }

    [Fact]
    public void CleanRunSaysNoErrorsFound()
    {
        var output = new StringWriter();
        new TextReportWriter(output).WriteSummary(new ErrorCollector().Summary());

        Assert.Equal(Lines(
            "memcheck:",
            "memcheck: NO ERRORS FOUND:",
            "memcheck:       0 unique,     0 total unaddressable access(es)",
            "memcheck:       0 unique,     0 total uninitialized access(es)",
            "memcheck:       0 unique,     0 total invalid heap argument(s)",
            "memcheck:       0 unique,     0 total,      0 byte(s) of leak(s)",
            "memcheck:       0 unique,     0 total,      0 byte(s) of possible leak(s)",
            "memcheck:       0 unique,     0 total overlapping copy(ies)",
            "memcheck:       0 unique,     0 total fishy argument(s)"), output.ToString());
    }

    [Fact]
    public void EveryLineCarriesThePrefix()
    {
        var output = new StringWriter();
        var writer = new TextReportWriter(output);
        writer.WriteError(new ReportedError(1, Unaddressable(0x10, 0x20, 0x30), 1));
        writer.WriteSummary(new ErrorCollector().Summary());
        Assert.All(output.ToString().TrimEnd('\n').Split('\n'), line => Assert.StartsWith("memcheck:", line));
    }
}
