using System.Globalization;

namespace Checker.Reports.Html;

/// <summary>
/// Callstacks and source excerpts. A stack is an ordered list, innermost first; each of the user's
/// frames whose source is readable is a <c>&lt;details&gt;</c> whose summary is the frame and whose
/// body is the lines around it, the innermost one open (the site a reader looks at first).
/// </summary>
internal sealed class HtmlStacks(HtmlBuilder html, SourceExcerpts sources)
{
    /// <summary>A whole stack; <paramref name="openSite"/>: the innermost user frame's source shows without a click.</summary>
    public void Stack(IReadOnlyList<ReportFrame> frames, bool openSite)
    {
        if (frames.Count == 0)
        {
            html.Add($"<p class=\"muted\">(no frames)</p>\n");
            return;
        }
        ReportFrame? site = UserFrames.Site(frames);
        html.Add($"<ol class=\"stack\" start=\"0\">\n");
        for (int i = 0; i < frames.Count; i++)
        {
            ReportFrame frame = frames[i];
            bool user = UserFrames.IsUser(frame);
            SourceExcerpt? excerpt = user ? sources.Around(frame.File!, frame.Line!.Value) : null;
            html.Add($"<li class=\"{(user ? "frame user" : "frame")}\">");
            if (excerpt is null)
            {
                FrameLine(frame);
            }
            else
            {
                html.Add($"<details{new Markup(openSite && ReferenceEquals(frame, site) ? " open" : "")}><summary>");
                FrameLine(frame);
                html.Add($"</summary>");
                Excerpt(excerpt);
                html.Add($"</details>");
            }
            html.Add($"</li>\n");
        }
        html.Add($"</ol>\n");
    }

    /// <summary><c>fill  html_report.c:26  html_report+0x1204</c>, the directory of the file in its title.</summary>
    public void FrameLine(ReportFrame frame)
    {
        if (frame.Replaced)
        {
            html.Add($"<span class=\"fn\">{frame.Function ?? "??"}</span> <span class=\"tag\">replaced by memcheck</span>");
            return;
        }
        html.Add($"<span class=\"fn\">{frame.Function ?? "??"}</span>");
        if (frame.File is null && frame.Function is not null && frame.SymbolOffset is ulong offset)
            html.Add($"<span class=\"off\">+0x{offset:x}</span>");
        if (frame.Inlined) html.Add($" <span class=\"tag\">inlined</span>");
        if (frame.File is not null) html.Add($" {Location(frame)}");
        html.Add($" <span class=\"mod\">{Module(frame)}</span>");
    }

    /// <summary>The frame's source location, <c>x.c:7</c> with the whole path in the title; empty without a file.</summary>
    public Markup Location(ReportFrame frame)
    {
        if (frame.File is null) return new Markup("");
        var location = new HtmlBuilder();
        string line = frame.Line is int number ? ":" + number.ToString(CultureInfo.InvariantCulture) : "";
        location.Add($"<span class=\"loc\" title=\"{frame.File}{line}\">{Path.GetFileName(frame.File)}{line}</span>");
        return new Markup(location.ToString());
    }

    private static string Module(ReportFrame frame) => frame.ModulePath is string module
        ? $"{Path.GetFileName(module)}+0x{frame.ModuleOffset.ToString("x", CultureInfo.InvariantCulture)}"
        : $"0x{frame.Pc.ToString("x", CultureInfo.InvariantCulture)}";

    /// <summary>The lines around the frame's, numbered (by CSS, so a copy takes only the code), the frame's marked.</summary>
    public void Excerpt(SourceExcerpt excerpt)
    {
        html.Add($"<div class=\"src\"><div class=\"path\">{excerpt.File}</div><pre>");
        for (int i = 0; i < excerpt.Lines.Count; i++)
        {
            int number = excerpt.FirstLine + i;
            html.Add($"<span class=\"{(number == excerpt.Line ? "line hit" : "line")}\" data-n=\"{number}\">{excerpt.Lines[i]}</span>");
        }
        html.Add($"</pre></div>");
    }
}
