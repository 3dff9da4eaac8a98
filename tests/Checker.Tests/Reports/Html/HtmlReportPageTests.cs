using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Reports;
using Checker.Reports.Html;
using Checker.Tests.EndToEnd;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.Reports.Html;

/// <summary>
/// One memcheck run of tests/cases/html_report.c with <c>--html</c> and <c>--json</c>, the program
/// copied under a name full of HTML's special characters and given arguments that are markup, and
/// the page as headless Chromium shows it: its DOM after the script ran, and a screenshot.
/// </summary>
public sealed class HtmlReportRun
{
    public const string Source = "html_report.c";

    public HtmlReportRun()
    {
        string directory = Scratch.NewDirectory("html-report");
        Program = Path.Combine(directory, "html<report> & \"q\" 'x'");
        File.Copy(CaseBinaries.Get("html_report"), Program);
        File.SetUnixFileMode(Program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        HtmlPath = Path.Combine(directory, "report.html");
        Report = MemcheckJson.RunMemcheckCommand([Program, .. Arguments], "--leak-check=full", "--html", HtmlPath);
        Assert.True(File.Exists(HtmlPath), $"no HTML report\n{Report.Context}");
        Page = File.ReadAllText(HtmlPath);
        Dom = HeadlessChromium.DumpDom(HtmlPath);
        Screenshot = PngImage.Decode(HeadlessChromium.Screenshot(HtmlPath, 1200, 1600));
    }

    public static readonly string[] Arguments = ["<script>document.title='pwned'</script>", "a&b <i>c</i>"];

    public string Program { get; }
    public string HtmlPath { get; }
    internal MemcheckReport Report { get; }

    /// <summary>The file as memcheck wrote it.</summary>
    public string Page { get; }

    /// <summary>The DOM after the page's script ran, as Chromium serializes it.</summary>
    public string Dom { get; }

    internal PngImage Screenshot { get; }
}

/// <summary>What a reader of the --html page sees, checked in a real browser against the JSON report of the same run.</summary>
public class HtmlReportPageTests(HtmlReportRun run) : IClassFixture<HtmlReportRun>
{
    private string Context => run.Report.Context;

    [Fact]
    public void TheRunIsTheCasesAsDocumented()
    {
        Assert.True(run.Report.Run.ExitCode == 0, $"exit {run.Report.Run.ExitCode}\n{Context}");
        Assert.Equal("done\n", run.Report.Run.StdoutText);
    }

    [Fact]
    public void SummaryShowsTheErrorCountsAndHowTheProgramEnded()
    {
        JsonElement summary = run.Report.Root.GetProperty("summary");
        Assert.True(summary.GetProperty("unique").GetInt32() >= 7, Context); // the case's 7 (its thread's DTV is suppressed by default.supp)
        Assert.Equal(summary.GetProperty("unique").GetInt32().ToString("N0"), TextOf(run.Dom, "summary-unique"));
        Assert.Equal(summary.GetProperty("total").GetInt32().ToString("N0"), TextOf(run.Dom, "summary-total"));
        Assert.Equal("exited with status 0", TextOf(run.Dom, "status"));
        // The summary comes before the first error.
        Assert.True(run.Dom.IndexOf("id=\"summary-unique\"", StringComparison.Ordinal) < run.Dom.IndexOf("<article", StringComparison.Ordinal));
        Assert.Contains($"<dd>{run.Report.Root.GetProperty("pid").GetInt32()}</dd>", run.Dom);
    }

    [Fact]
    public void FirstErrorShowsItsSourceLineHighlighted()
    {
        int line = MemcheckJson.Line(HtmlReportRun.Source, "LINE_OVERFLOW");
        JsonElement first = run.Report.Errors[0];
        Assert.Equal("unaddressable", first.GetProperty("kind").GetString());
        Assert.Equal(3, first.GetProperty("count").GetInt32());
        MemcheckJson.AssertFrame(first.GetProperty("stack")[0], "fill", HtmlReportRun.Source, line, Context);

        string card = Element(run.Dom, "<article class=\"error k-unaddressable\" id=\"e1\">", "</article>");
        Assert.Equal(run.Dom.IndexOf("<article", StringComparison.Ordinal), run.Dom.IndexOf("<article class=\"error k-unaddressable\" id=\"e1\">", StringComparison.Ordinal));
        Match hit = Regex.Match(card, "<span class=\"line hit\" data-n=\"(\\d+)\">(.*?)</span>");
        Assert.True(hit.Success, card);
        Assert.Equal(line, int.Parse(hit.Groups[1].Value));
        string sourceLine = File.ReadAllLines(Path.Combine(RepoPaths.Cases, HtmlReportRun.Source))[line - 1];
        Assert.Contains("'<'", sourceLine); // the marked line has markup characters: shown as written
        Assert.Equal(sourceLine, WebUtility.HtmlDecode(hit.Groups[2].Value));
        // ±3 lines around it, and the repeat count.
        Assert.Equal(7, Regex.Matches(card[..card.IndexOf("</pre>", StringComparison.Ordinal)], "<span class=\"line( hit)?\" data-n=").Count);
        Assert.Contains("×3</span>", card);
    }

    [Fact]
    public void EveryCheckedKindHasATileAndEveryFoundKindASection()
    {
        JsonElement kinds = run.Report.Root.GetProperty("summary").GetProperty("kinds");
        foreach (JsonProperty kind in kinds.EnumerateObject())
        {
            Assert.True(ErrorKinds.TryParseJsonName(kind.Name, out ErrorKind? parsed));
            int unique = kind.Value.GetProperty("unique").GetInt32();
            Match tile = Regex.Match(run.Dom, $"data-kind=\"{kind.Name}\"[^>]*><span class=\"n\">([\\d,]+)</span><span class=\"t\">([^<]*)</span>");
            Assert.True(tile.Success, $"no tile for {kind.Name}");
            Assert.Equal(unique.ToString("N0"), tile.Groups[1].Value);
            Assert.Equal(parsed.Value.Headline(), tile.Groups[2].Value);
            Assert.Equal(unique > 0, run.Dom.Contains($"id=\"{parsed.Value.Anchor()}\"", StringComparison.Ordinal));
        }
        foreach (string found in new[] { "unaddressable", "uninitialized", "invalid-heap-arg", "leak" })
            Assert.True(kinds.GetProperty(found).GetProperty("unique").GetInt32() > 0, $"{found}\n{Context}");
    }

    [Fact]
    public void ErrorsShowBlockStacksAndThreads()
    {
        int useAfterFree = run.Report.Errors.Single(e => e.GetProperty("message").GetString()!.StartsWith("of freed memory", StringComparison.Ordinal)).GetProperty("id").GetInt32();
        string card = Element(run.Dom, $"id=\"e{useAfterFree}\">", "</article>");
        Assert.Contains("<summary>The 32-byte block at 0x", card);
        Assert.Contains("<summary>and freed</summary>", card);
        Assert.Contains($"title=\"{Path.Combine(RepoPaths.Cases, HtmlReportRun.Source)}:{MemcheckJson.Line(HtmlReportRun.Source, "LINE_UAF_FREE")}\"", card);

        int uninitialized = run.Report.Errors.Single(e => e.GetProperty("kind").GetString() == "uninitialized").GetProperty("id").GetInt32();
        card = Element(run.Dom, $"id=\"e{uninitialized}\">", "</article>");
        Assert.Contains("<span class=\"badge thread\">thread 2</span>", card);
        Assert.Matches("<summary>Thread 2 \\(tid \\d+\\) was created</summary>", card);
        Assert.Contains($"data-n=\"{MemcheckJson.Line(HtmlReportRun.Source, "LINE_THREAD")}\"", card); // main's source, where it was created
    }

    [Fact]
    public void LeakRowsComeLargestFirst()
    {
        string section = Element(run.Dom, "id=\"kind-leak\">", "</section>");
        var rows = Regex.Matches(section, "<tr id=\"e(\\d+)\" data-id=\"\\d+\" data-bytes=\"(\\d+)\"")
            .Select(m => (Id: int.Parse(m.Groups[1].Value), Bytes: ulong.Parse(m.Groups[2].Value))).ToArray();
        var expected = run.Report.Errors.Where(e => e.GetProperty("kind").GetString() == "leak")
            .Select(e => (Id: e.GetProperty("id").GetInt32(), Bytes: e.GetProperty("leak").GetProperty("bytes").GetUInt64()))
            .OrderByDescending(r => r.Bytes).ThenBy(r => r.Id).ToArray();
        Assert.Equal(expected, rows);
        Assert.Equal([4000UL, 3000UL, 24UL], rows.Select(r => r.Bytes));
        Assert.Matches("<td class=\"num bytes\">4,000</td>", section);
        // The script made the headers sort buttons (it ran), and the page as written has none (it reads without it).
        Assert.Contains("<th data-sort=\"bytes\" class=\"num\" aria-sort=\"descending\"><button type=\"button\"", section);
        Assert.DoesNotContain("<button", run.Page);
    }

    [Fact]
    public void ScreenshotIsNotBlank()
    {
        PngImage shot = run.Screenshot;
        Assert.Equal((1200, 1600), (shot.Width, shot.Height));
        uint background = shot.Pixels.GroupBy(p => p).OrderByDescending(g => g.Count()).First().Key;
        double covered = shot.Pixels.Count(p => p != background) / (double)shot.Pixels.Length;
        int colors = shot.Pixels.Distinct().Count();
        Assert.True(covered > 0.05 && colors > 100, $"{covered:P1} of the pixels differ from the background, {colors} colors");
        // The colored bars of the kinds found are on screen (the summary's tiles).
        var found = run.Report.Root.GetProperty("summary").GetProperty("kinds").EnumerateObject()
            .Where(k => k.Value.GetProperty("unique").GetInt32() > 0)
            .Select(k => ErrorKinds.TryParseJsonName(k.Name, out ErrorKind? kind) ? kind.Value : throw new InvalidDataException(k.Name));
        var pixels = shot.Pixels.ToHashSet();
        foreach (ErrorKind kind in found)
        {
            uint rgb = Convert.ToUInt32(kind.Style().Color[1..], 16);
            Assert.True(pixels.Contains(rgb << 8 | 0xff), $"no pixel of {kind}'s color {kind.Style().Color}");
        }
    }

    [Fact]
    public void PageFetchesNothing()
    {
        foreach (string html in new[] { run.Page, run.Dom })
        {
            Assert.DoesNotMatch(@"\b(src|href|action|srcset|poster|data)\s*=\s*[""']?\s*(https?:|//)", html);
            Assert.DoesNotMatch(@"url\(|@import", html);
        }
        Assert.Contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;;", run.Page);
        Assert.DoesNotMatch("<(link|img|iframe|object|embed|audio|video|source)\\b", run.Dom);
    }

    [Fact]
    public void ProgramNameAndArgumentsAreEscaped()
    {
        string name = Path.GetFileName(run.Program);
        Match h1 = Regex.Match(run.Dom, "<h1 title=\"([^\"]*)\">([^<]*)</h1>");
        Assert.True(h1.Success, run.Dom);
        Assert.Equal(name, WebUtility.HtmlDecode(h1.Groups[2].Value));
        Assert.Equal(run.Program, WebUtility.HtmlDecode(h1.Groups[1].Value));
        // The arguments are text on the page, not elements: the page's own script is its only one.
        Assert.Single(Regex.Matches(run.Dom, "<script"));
        Assert.DoesNotMatch("<(report|i)>", run.Dom);
        Match command = Regex.Match(run.Dom, "<p class=\"cmd\"><code>([^<]*)</code></p>");
        Assert.True(command.Success);
        Assert.Equal($"'{run.Program.Replace("'", "'\\''")}' '{HtmlReportRun.Arguments[0].Replace("'", "'\\''")}' '{HtmlReportRun.Arguments[1]}'",
            WebUtility.HtmlDecode(command.Groups[1].Value));
        Assert.StartsWith("memcheck: html&lt;report&gt; &amp; \"q\" 'x': ", Regex.Match(run.Dom, "<title>([^<]*)</title>").Groups[1].Value);
    }

    /// <summary>The text of the element with id <paramref name="id"/> (no child elements), decoded.</summary>
    private static string TextOf(string dom, string id)
    {
        Match match = Regex.Match(dom, $"id=\"{id}\">([^<]*)<");
        Assert.True(match.Success, $"no element {id}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>From <paramref name="start"/> to the first <paramref name="end"/> after it.</summary>
    private static string Element(string dom, string start, string end)
    {
        int from = dom.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"no {start}");
        int to = dom.IndexOf(end, from, StringComparison.Ordinal);
        return dom[from..to];
    }
}
