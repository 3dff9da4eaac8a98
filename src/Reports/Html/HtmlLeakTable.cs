namespace Checker.Reports.Html;

/// <summary>
/// The loss records of one leak kind as a table, largest first (bytes, direct and indirect; ties in
/// order found), so the page reads right without script; the page's script re-sorts it by a column
/// header click (<c>data-sort</c> names the row attribute it sorts by). Each row's last cell has the
/// allocation site and, collapsed, the allocation stack with the site's source.
/// </summary>
internal sealed class HtmlLeakTable(HtmlBuilder html, HtmlStacks stacks)
{
    public void Write(IReadOnlyList<ReportedError> leaks)
    {
        html.Add($"<div class=\"table-wrap\"><table class=\"leaks sortable\">\n<thead><tr>");
        html.Add($"<th data-sort=\"id\" class=\"num\">#</th><th data-sort=\"bytes\" class=\"num\" aria-sort=\"descending\">Bytes</th>");
        html.Add($"<th data-sort=\"blocks\" class=\"num\">Blocks</th><th data-sort=\"indirect\" class=\"num\">Of which indirect</th><th>Allocated at</th>");
        html.Add($"</tr></thead>\n<tbody>\n");
        foreach (ReportedError error in leaks.OrderByDescending(e => e.Record.Leak?.Bytes ?? 0).ThenBy(e => e.Id))
        {
            ErrorRecord record = error.Record;
            LeakInfo leak = record.Leak ?? new LeakInfo(0, (ulong)error.Count, false, 0);
            html.Add($"<tr id=\"e{error.Id}\" data-id=\"{error.Id}\" data-bytes=\"{leak.Bytes}\" data-blocks=\"{leak.Blocks}\" data-indirect=\"{leak.IndirectBytes}\">");
            html.Add($"<td class=\"num\"><a class=\"id\" href=\"#e{error.Id}\">#{error.Id}</a></td>");
            html.Add($"<td class=\"num bytes\">{leak.Bytes:N0}</td><td class=\"num\">{leak.Blocks:N0}</td>");
            if (leak.IndirectBlocks > 0) html.Add($"<td class=\"num\">{leak.IndirectBytes:N0} <span class=\"muted\">in {HtmlErrorSections.Plural(leak.IndirectBlocks, "block")}</span></td>");
            else html.Add($"<td class=\"num muted\">–</td>");
            html.Add($"<td class=\"site-cell\">");
            if (UserFrames.Site(record.Stack) is ReportFrame site)
                html.Add($"<div><span class=\"fn\">{site.Function ?? "??"}</span> {stacks.Location(site)}</div>");
            html.Add($"<p class=\"msg\">{record.Message}</p>");
            html.Add($"<details class=\"box\"><summary>Allocation stack <span class=\"muted\">{HtmlErrorSections.Plural(record.Stack.Count, "frame")}</span></summary>\n");
            stacks.Stack(record.Stack, openSite: true);
            html.Add($"</details></td></tr>\n");
        }
        html.Add($"</tbody></table></div>\n");
    }
}
