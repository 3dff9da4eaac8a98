using System.Text;

namespace Checker.Reports.Html;

/// <summary>
/// Writes <c>--html FILE</c>: one self-contained page for a person (a CI artifact): the summary
/// first (<see cref="HtmlSummary"/>), then the errors by kind and site with the source around the
/// program's own frames (<see cref="HtmlErrorSections"/>). The stylesheet and the script are inline
/// and a Content-Security-Policy forbids every fetch, so opening the page loads nothing from
/// anywhere; the script only adds sorting and expand/collapse buttons, and the page reads the same
/// without it (leaks come largest first, the site of each error is open). Every string from the
/// program is encoded (<see cref="HtmlBuilder"/>).
/// </summary>
public static class HtmlReportWriter
{
    // No fetch of any kind: inline style and script only, images only as data: URIs (none today).
    private const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

    /// <summary>
    /// Writes the page to <paramref name="path"/> through a temporary file in the same directory
    /// renamed over it, as the JSON report is: a reader sees the old file or the whole new one.
    /// </summary>
    public static void WriteFile(string path, RunInfo run, ErrorCollector collector, HtmlReportOptions options)
    {
        // The caller's suppressions when it gave them (a session with several collectors), else the collector's.
        string page = Render(run, collector.Errors, collector.Summary(), options.Suppressions.Count > 0 ? options : options with { Suppressions = collector.UsedSuppressions });
        ReportFile.Replace(path, run.Pid, stream => stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(page)));
    }

    /// <summary>The page as a string.</summary>
    public static string Render(RunInfo run, IReadOnlyList<ReportedError> errors, ErrorSummary summary, HtmlReportOptions options)
    {
        var html = new HtmlBuilder();
        var stacks = new HtmlStacks(html, new SourceExcerpts());
        html.Add($"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Add($"<meta http-equiv=\"Content-Security-Policy\" content=\"{ContentSecurityPolicy}\">\n");
        html.Add($"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Add($"<meta name=\"generator\" content=\"memcheck {options.Version}\">\n");
        html.Add($"<title>memcheck: {Path.GetFileName(run.Program)}: {Title(summary)}</title>\n");
        html.Add($"<style>\n").Raw(HtmlAssets.Stylesheet).Raw(HtmlKindStyles.Css()).Add($"</style>\n</head>\n<body>\n<div class=\"page\">\n");
        new HtmlSummary(html, stacks).Write(run, summary, options);
        html.Add($"<main id=\"errors\">\n");
        new HtmlErrorSections(html, stacks).Write(errors, summary);
        html.Add($"</main>\n<footer>Written by memcheck {options.Version} on {options.Generated.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC. ");
        html.Add($"This page is self-contained: it loads nothing from the network.</footer>\n</div>\n");
        html.Add($"<script>\n").Raw(HtmlAssets.Script).Add($"</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Title(ErrorSummary summary) => summary.Unique switch
    {
        0 => "no errors",
        1 => "1 error",
        int n => $"{n} errors",
    };
}
