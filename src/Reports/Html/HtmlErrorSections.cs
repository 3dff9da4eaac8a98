using System.Globalization;

namespace Checker.Reports.Html;

/// <summary>
/// The errors, one section per kind (table order), leaks as a table (<see cref="HtmlLeakTable"/>),
/// every other kind grouped by site (the innermost user frame, <see cref="UserFrames.Site"/>) in
/// order of each site's first error, each error a card: headline, message, repeat count, thread,
/// its stack (site source open) and, collapsed, the block's allocation and free stacks and where
/// its thread was created.
/// </summary>
internal sealed class HtmlErrorSections(HtmlBuilder html, HtmlStacks stacks)
{
    public void Write(IReadOnlyList<ReportedError> errors, ErrorSummary summary)
    {
        // As the text report: a thread is named only in a program that has had more than one.
        bool threads = errors.Any(e => e.Record.Thread != 1);
        foreach (IGrouping<ErrorKind, ReportedError> kind in errors.GroupBy(e => e.Record.Kind).OrderBy(g => g.Key))
        {
            ErrorKindInfo info = kind.Key.Info();
            KindCounts counts = summary[kind.Key];
            html.Add($"<section class=\"kind {kind.Key.CssClass()}\" id=\"{kind.Key.Anchor()}\">\n");
            html.Add($"<h2><span class=\"dot\"></span>{kind.Key.Style().Title} <span class=\"counts\">{Plural(counts.Unique, "unique error")}, {Plural(counts.Total, "occurrence")}");
            if (info.CountsBytes) html.Add($", {Plural(counts.Bytes, "byte")}");
            html.Add($"</span></h2>\n");
            if (info.CountsBytes)
            {
                new HtmlLeakTable(html, stacks).Write(kind.ToList());
            }
            else
            {
                foreach (IGrouping<string, ReportedError> site in kind.GroupBy(e => SiteKey(e.Record.Stack)))
                    Site(site.ToList(), threads);
            }
            html.Add($"</section>\n");
        }
    }

    private void Site(IReadOnlyList<ReportedError> errors, bool threads)
    {
        ReportFrame? site = UserFrames.Site(errors[0].Record.Stack);
        int total = errors.Sum(e => e.Count);
        html.Add($"<section class=\"site\"><h3>");
        if (site is null) html.Add($"<span class=\"fn\">(no stack)</span>");
        else html.Add($"<span class=\"fn\">{site.Function ?? "??"}</span> {stacks.Location(site)}");
        html.Add($" <span class=\"counts\">{Plural(errors.Count, "error")}{(total > errors.Count ? $", {Plural(total, "occurrence")}" : "")}</span></h3>\n");
        foreach (ReportedError error in errors) Card(error, threads);
        html.Add($"</section>\n");
    }

    private void Card(ReportedError error, bool threads)
    {
        ErrorRecord record = error.Record;
        html.Add($"<article class=\"error {record.Kind.CssClass()}\" id=\"e{error.Id}\">\n<header>");
        html.Add($"<a class=\"id\" href=\"#e{error.Id}\">#{error.Id}</a> <span class=\"headline\">{record.Kind.Headline()}</span>");
        if (record.Detail is not null) html.Add($" <span class=\"detail\">{record.Detail}</span>");
        if (error.Count > 1) html.Add($" <span class=\"badge count\" title=\"{Plural(error.Count, "occurrence")}\">×{error.Count:N0}</span>");
        if (threads) html.Add($" <span class=\"badge thread\">thread {record.Thread}</span>");
        html.Add($"</header>\n<p class=\"msg\">{record.Message}</p>\n");

        html.Add($"<details class=\"box\" open><summary>Stack <span class=\"muted\">{Plural(record.Stack.Count, "frame")}</span></summary>\n");
        stacks.Stack(record.Stack, openSite: true);
        html.Add($"</details>\n");
        if (record.Block is BlockInfo block)
        {
            html.Add($"<details class=\"box\"><summary>The {block.Size:N0}-byte block at 0x{block.Address:x} was allocated</summary>\n");
            stacks.Stack(block.AllocStack, openSite: true);
            html.Add($"</details>\n");
            if (block.FreeStack is { } freeStack)
            {
                html.Add($"<details class=\"box\"><summary>and freed</summary>\n");
                stacks.Stack(freeStack, openSite: true);
                html.Add($"</details>\n");
            }
        }
        if (threads && record.ThreadOrigin is { CreatedAt.Count: > 0 } origin)
        {
            html.Add($"<details class=\"box\"><summary>Thread {record.Thread} (tid {origin.Tid}) was created</summary>\n");
            stacks.Stack(origin.CreatedAt, openSite: true);
            html.Add($"</details>\n");
        }
        html.Add($"</article>\n");
    }

    /// <summary>Errors at the same source line of the same function share a site; without a line, the same code address.</summary>
    private static string SiteKey(IReadOnlyList<ReportFrame> stack) => UserFrames.Site(stack) switch
    {
        null => "",
        { File: string file } frame => $"{frame.Function}\0{file}\0{frame.Line}",
        var frame => $"{frame.Function}\0{frame.ModulePath}\0{frame.ModuleOffset}\0{frame.Pc}",
    };

    public static string Plural(long n, string noun) =>
        n.ToString("N0", CultureInfo.InvariantCulture) + " " + (n == 1 ? noun : noun + "s");

    public static string Plural(ulong n, string noun) =>
        n.ToString("N0", CultureInfo.InvariantCulture) + " " + (n == 1 ? noun : noun + "s");
}
