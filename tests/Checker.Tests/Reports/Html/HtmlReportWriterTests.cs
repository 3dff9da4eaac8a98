using System.Net;
using System.Text.RegularExpressions;
using Checker.Reports;
using Checker.Reports.Html;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Reports.ReportSamples;

namespace Checker.Tests.Reports.Html;

/// <summary>The page's writer on records shaped like detection's: encoding, source excerpts, grouping, order (no browser).</summary>
public class HtmlReportWriterTests
{
    private static readonly HtmlReportOptions Options = new("1.2.3", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    private static string Render(ErrorCollector collector, RunInfo? run = null, HtmlReportOptions? options = null) =>
        HtmlReportWriter.Render(run ?? new RunInfo("/abs/x", [], 4242, 0), collector.Errors, collector.Summary(), options ?? Options);

    [Fact]
    public void CommandLineQuotesOnlyWordsAShellWouldSplit()
    {
        string page = Render(new ErrorCollector(), new RunInfo("/abs/x", ["plain_1.c", "--opt=a,b:c@d%e+f", "two words", "it's", ""], 1, 0));
        Assert.Contains("/abs/x plain_1.c --opt=a,b:c@d%e+f &#39;two words&#39; &#39;it&#39;\\&#39;&#39;s&#39; &#39;&#39;", page);
    }

    [Fact]
    public void EveryStringFromTheProgramIsEncoded()
    {
        var collector = new ErrorCollector();
        ReportFrame frame = new(0x1000, "/abs/<lib>.so", 0x10, "operator<< <int>(\"&\")", "/abs/a'b\".c", 3);
        collector.Add(new ErrorRecord(ErrorKind.Overlap, "source and destination overlap in <img src=x onerror=alert(1)>", 1, [frame],
            Detail: "<b>detail</b>"));
        string page = Render(collector, new RunInfo("/abs/<script>", ["</code><script>"], 1, 0));

        Assert.Contains("operator&lt;&lt; &lt;int&gt;(&quot;&amp;&quot;)", page);
        Assert.Contains("in &lt;img src=x onerror=alert(1)&gt;", page);
        Assert.Contains("&lt;b&gt;detail&lt;/b&gt;", page);
        Assert.Contains("title=\"/abs/a&#39;b&quot;.c:3\"", page);
        Assert.Contains("&lt;lib&gt;.so+0x10", page);
        Assert.Single(Regex.Matches(page, "<script"));
        Assert.DoesNotContain("<img", page);
        Assert.DoesNotContain("<b>", page);
        Assert.DoesNotContain("badge thread", page); // every error on the main thread: threads not named
    }

    [Fact]
    public void SourceLinesAroundUserFramesAreShownAndUnreadableOnesLeftOut()
    {
        string file = Path.Combine(Scratch.NewDirectory("html-source"), "prog.c");
        File.WriteAllLines(file, Enumerable.Range(1, 20).Select(i => i == 2 ? "  if (a < b && c) /* two */" : $"line {i}"));
        var collector = new ErrorCollector();
        collector.Add(new ErrorRecord(ErrorKind.Unaddressable, "reading 1 byte(s)", 1,
        [
            new ReportFrame(0x7f0000001000, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x1000, "memcpy", "string/memcpy.c", 10),
            new ReportFrame(0x1002, Exe, 0x1002, "inner", file, 2),
            new ReportFrame(0x1003, Exe, 0x1003, "outer", file, 12),
            new ReportFrame(0x1004, Exe, 0x1004, "gone", "/no/such/dir/gone.c", 5),
        ]));
        string page = Render(collector);

        // The site is the innermost user frame (inner, not libc's memcpy), its source open; lines clamp at the file's start.
        Assert.Contains("<h3><span class=\"fn\">inner</span> <span class=\"loc\"", page);
        Assert.Contains("<details open><summary><span class=\"fn\">inner</span>", page);
        Assert.Contains("<span class=\"line hit\" data-n=\"2\">  if (a &lt; b &amp;&amp; c) /* two */</span>", page);
        Assert.Contains("<span class=\"line\" data-n=\"1\">line 1</span><span class=\"line hit\"", page);
        Assert.Contains("data-n=\"5\">line 5</span></pre>", page);
        // outer's source is there, collapsed; the missing file's frame is a plain line; libc's has none.
        Assert.Contains("<details><summary><span class=\"fn\">outer</span>", page);
        Assert.Contains("<span class=\"line hit\" data-n=\"12\">line 12</span>", page);
        Assert.Contains("<li class=\"frame user\"><span class=\"fn\">gone</span>", page);
        Assert.Contains("<li class=\"frame\"><span class=\"fn\">memcpy</span>", page);
        Assert.Equal(2, Regex.Matches(page, "class=\"line hit\"").Count);
    }

    [Fact]
    public void ErrorsAreGroupedByKindThenSite()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x1000, 0x2000)); // main [x.c:7]
        collector.Add(new ErrorRecord(ErrorKind.InvalidHeapArgument, "free 0x10: not a heap address", 1, Stack(0x3000)));
        collector.Add(Unaddressable(0x1000, 0x2100)); // same site, another caller: another error
        collector.Add(Unaddressable(0x1000, 0x2100));
        collector.Add(Unaddressable(0x4000)); // main [x.c:7] too: same line, same site
        string page = Render(collector);

        int unaddressable = page.IndexOf("id=\"kind-unaddressable\"", StringComparison.Ordinal);
        int heap = page.IndexOf("id=\"kind-invalid-heap-arg\"", StringComparison.Ordinal);
        Assert.True(unaddressable > 0 && heap > unaddressable);
        string section = page[unaddressable..heap];
        Assert.Single(Regex.Matches(section, "<section class=\"site\">"));
        Assert.Contains("<span class=\"counts\">3 errors, 4 occurrences</span>", section);
        Assert.Equal(["e1", "e3", "e4"], Regex.Matches(section, "<article class=\"error k-unaddressable\" id=\"(e\\d+)\">").Select(m => m.Groups[1].Value));
        Assert.Contains("title=\"2 occurrences\">×2</span>", section);
        Assert.Contains("<span class=\"badge thread\">thread 4242</span>", section); // a thread other than the first: named
    }

    [Fact]
    public void LeaksAreATableLargestFirst()
    {
        var collector = new ErrorCollector();
        collector.Add(Leak(24, 0x1000));
        collector.Add(Leak(100_000, 0x2000));
        collector.Add(Leak(24, 0x3000));
        collector.Add(Leak(3000, 0x4000));
        string page = Render(collector);

        Assert.Equal(["e2", "e4", "e1", "e3"], Regex.Matches(page, "<tr id=\"(e\\d+)\"").Select(m => m.Groups[1].Value));
        Assert.Contains("<td class=\"num bytes\">100,000</td>", page);
        Assert.Contains("aria-sort=\"descending\">Bytes</th>", page);
    }

    [Fact]
    public void SummarySaysHowTheRunEndedAndWhatWasNotShown()
    {
        var collector = new ErrorCollector(checkedKinds: [ErrorKind.Unaddressable]);
        var ignored = new ErrorCollector();
        ignored.Add(Leak(64, 0x1000));
        var death = new DeathInfo(11, "SIGSEGV", "Segmentation fault", Pc: 0x1234, Address: 0, Stack: Stack(0x1234), ErrorId: 1);
        collector.Add(Unaddressable(0x1234));
        string page = Render(collector, new RunInfo("/abs/x", ["a b"], 7, 139, death),
            Options with { Ignored = ignored.Summary(), Suppressions = [("libc noise", 3), ("zlib <inflate>", 1)] });

        Assert.Contains("id=\"status\">killed by SIGSEGV</p>", page);
        Assert.Contains("<h2>The program died of SIGSEGV</h2>", page);
        Assert.Contains("<p>Segmentation fault. The access is <a href=\"#e1\">error #1</a>.</p>", page);
        Assert.Contains("<code>/abs/x &#39;a b&#39;</code>", page);
        Assert.Contains("<strong>Suppressed:</strong> 4 occurrences by 2 suppressions", page);
        Assert.Contains("<li><code>zlib &lt;inflate&gt;</code> <span class=\"muted\">×1</span></li>", page);
        Assert.Contains("<li>leak(s): 1 unique, 1 total, 64 bytes</li>", page);
        Assert.Contains("<dd>1.2.3</dd>", page);
        Assert.Contains("2026-01-02 03:04:05 UTC", page);
        // Only the checked kinds have tiles; the page loads nothing.
        Assert.Single(Regex.Matches(page, "class=\"tile "));
        Assert.Contains("Content-Security-Policy", page);
    }

    [Fact]
    public void NoErrorsSaysSo()
    {
        string page = Render(new ErrorCollector());
        Assert.Contains("<span id=\"summary-unique\">0</span> errors found", page);
        Assert.Contains("<title>memcheck: x: no errors</title>", page);
        Assert.DoesNotContain("<article", page);
    }

    [Fact]
    public void WriteFileReplacesTheFileWhole()
    {
        string path = Path.Combine(Scratch.NewDirectory("html-file"), "r.html");
        File.WriteAllText(path, "old");
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x1000));
        HtmlReportWriter.WriteFile(path, new RunInfo("/abs/x", [], 1, 0), collector, Options);
        string page = File.ReadAllText(path);
        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.EndsWith("</html>\n", page);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        Assert.Equal("memcheck: x: 1 error", WebUtility.HtmlDecode(Regex.Match(page, "<title>(.*)</title>").Groups[1].Value));
    }
}
