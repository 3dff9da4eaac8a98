using System.Text.Json;
using Checker.Reports;
using Checker.Reports.Suppressions;
using Xunit;
using static Checker.Tests.Reports.ReportSamples;

namespace Checker.Tests.Reports;

/// <summary>
/// How suppressions show in the reports: a suppressed error is never shown and never numbered,
/// --gen-suppressions blocks follow their error without the line prefix, the summary lists the
/// suppressions used with their counts, and the JSON report has them under "suppressed".
/// </summary>
public class SuppressionReportTests
{
    private static readonly RunInfo Run = new("/abs/x", [], 4242, 0);

    private static ErrorRecord Leak(string function, ulong bytes) => new(
        ErrorKind.Leak, $"{bytes} direct bytes in 1 block", 1, [Frame(0x1000 + bytes, function, 3), Frame(0x2000, "main", 9)],
        Leak: new LeakInfo(bytes, 1, false, 0))
    {
        Valgrind = ValgrindKind.Leak("definite") with { Routine = "malloc" },
    };

    private static SuppressionMatcher Matcher(string text) => new(SuppressionFile.Parse(text, "t.supp"));

    [Fact]
    public void ASuppressedErrorIsNeitherShownNorNumberedNorCounted()
    {
        var output = new StringWriter();
        var text = new TextReportWriter(output);
        SuppressionMatcher matcher = Matcher("{\n known leak\n Memcheck:Leak\n fun:malloc\n fun:make_known\n}\n");
        var collector = new ErrorCollector(onFirstOccurrence: text.WriteError) { Suppression = e => matcher.Match(e)?.Name };

        ReportedError suppressed = collector.Add(Leak("make_known", 16), out bool suppressedIsNew);
        ReportedError shown = collector.Add(Leak("make_other", 24), out bool shownIsNew);
        collector.Add(Leak("make_known", 16));

        Assert.Equal((0, "known leak", false), (suppressed.Id, suppressed.SuppressedBy, suppressedIsNew));
        Assert.Equal((1, (string?)null, true), (shown.Id, shown.SuppressedBy, shownIsNew));
        Assert.DoesNotContain("make_known", output.ToString());
        Assert.Contains("Error #1: LEAK: 24 direct bytes", output.ToString());
        Assert.Equal((1, 1), (collector.Summary().Unique, collector.Summary().Total));
        Assert.Equal([("known leak", 2)], collector.UsedSuppressions);
    }

    [Fact]
    public void AGeneratedBlockFollowsItsErrorWithoutThePrefix()
    {
        var output = new StringWriter();
        new TextReportWriter(output) { SuppressionBlock = r => SuppressionBlock.For(r, 12) }
            .WriteError(new ReportedError(1, Leak("make", 16), 1));
        Assert.Equal(
            "memcheck:\n" +
            "memcheck: Error #1: LEAK: 16 direct bytes in 1 block\n" +
            "memcheck: #0 make [/abs/x.c:3] (x+0x1010)\n" +
            "memcheck: #1 main [/abs/x.c:9] (x+0x2000)\n" +
            "{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n   match-leak-kinds: definite\n   fun:malloc\n   fun:make\n   fun:main\n}\n",
            output.ToString());
    }

    [Fact]
    public void TheSummaryListsTheSuppressionsUsed()
    {
        var output = new StringWriter();
        var text = new TextReportWriter(output);
        text.WriteSuppressed([]);
        Assert.Equal("", output.ToString());

        text.WriteSuppressed([("known leak", 2), ("<insert_a_suppression_name_here>", 1)]);
        text.WriteSuppressed([("known leak", 2)], name => $"/abs/t.supp:{name.Length}");
        Assert.Equal(
            "memcheck: SUPPRESSED: 3 error(s) by 2 suppression(s):\n" +
            "memcheck:       2 known leak\n" +
            "memcheck:       1 <insert_a_suppression_name_here>\n" +
            "memcheck: SUPPRESSED: 2 error(s) by 1 suppression(s):\n" +
            "memcheck:       2 known leak (/abs/t.supp:10)\n",
            output.ToString());
    }

    [Fact]
    public void TheJsonReportHasTheSuppressionsUsedOnlyWhenThereAreAny()
    {
        var collector = new ErrorCollector();
        using (JsonDocument none = JsonDocument.Parse(JsonReportWriter.Serialize(Run, collector.Errors, collector.Summary(), null, [])))
            Assert.False(none.RootElement.TryGetProperty("suppressed", out _));

        using JsonDocument some = JsonDocument.Parse(JsonReportWriter.Serialize(Run, collector.Errors, collector.Summary(), null,
            [("known leak", 2), ("another", 1)]));
        JsonElement[] used = some.RootElement.GetProperty("suppressed").EnumerateArray().ToArray();
        Assert.Equal(["known leak", "another"], used.Select(u => u.GetProperty("name").GetString()));
        Assert.Equal([2, 1], used.Select(u => u.GetProperty("count").GetInt32()));
        Assert.Equal(["name", "count"], used[0].EnumerateObject().Select(p => p.Name));
    }
}
