
namespace Checker.Reports.Html;

/// <summary>
/// The top of the page: the program and its command line, how it ended, then the counts: unique and
/// total errors, one tile per checked kind (linking to its section), what was suppressed or ignored;
/// then the program's death, when a signal killed it.
/// </summary>
internal sealed partial class HtmlSummary(HtmlBuilder html, HtmlStacks stacks)
{
    public void Write(RunInfo run, ErrorSummary summary, HtmlReportOptions options)
    {
        html.Add($"<header class=\"top\">\n<div class=\"brand\">memcheck report</div>\n");
        html.Add($"<h1 title=\"{run.Program}\">{Path.GetFileName(run.Program)}</h1>\n");
        html.Add($"<p class=\"cmd\"><code>{CommandLine(run)}</code></p>\n");
        html.Add($"<p class=\"status {(Ended(run) ? "ended-badly" : "ended-well")}\" id=\"status\">{Status(run)}</p>\n");
        html.Add($"<dl class=\"meta\"><div><dt>pid</dt><dd>{run.Pid}</dd></div><div><dt>memcheck</dt><dd>{options.Version}</dd></div>");
        html.Add($"<div><dt>date</dt><dd>{options.Generated.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC</dd></div></dl>\n</header>\n");

        if (run.EngineFailure is EngineFailureInfo failure)
            html.Add($"<p class=\"banner\" role=\"alert\"><strong>Run incomplete:</strong> memcheck stopped the program ({failure.Message}). The errors below are those found so far.</p>\n");

        html.Add($"<section class=\"summary\" id=\"summary\">\n");
        if (summary.Total == 0)
        {
            html.Add($"<p class=\"verdict clean\"><span id=\"summary-unique\">0</span> errors found{(run.EngineFailure is null ? "" : " so far")}</p>\n");
        }
        else
        {
            html.Add($"<p class=\"verdict\"><span class=\"big\" id=\"summary-unique\">{summary.Unique:N0}</span> {(summary.Unique == 1 ? "error" : "errors")}");
            html.Add($" <span class=\"muted\">(<span id=\"summary-total\">{summary.Total:N0}</span> {(summary.Total == 1 ? "occurrence" : "occurrences")})</span></p>\n");
        }
        html.Add($"<div class=\"tiles\">\n");
        foreach (ErrorKindInfo kind in summary.CheckedKinds)
        {
            KindCounts counts = summary[kind.Kind];
            string css = counts.Total > 0 ? $"tile {kind.Kind.CssClass()}" : $"tile {kind.Kind.CssClass()} none";
            // A kind with errors links to its section; one with none has no section to link to.
            html.Add($"<{new Markup(counts.Total > 0 ? "a" : "div")} class=\"{css}\" data-kind=\"{kind.JsonName}\"");
            if (counts.Total > 0) html.Add($" href=\"#{kind.Kind.Anchor()}\"");
            html.Add($"><span class=\"n\">{counts.Unique:N0}</span><span class=\"t\">{kind.Headline}</span><span class=\"sub\">");
            html.Add($"{HtmlErrorSections.Plural(counts.Total, "occurrence")}");
            if (kind.CountsBytes) html.Add($" · {HtmlErrorSections.Plural(counts.Bytes, "byte")}");
            html.Add($"</span></{new Markup(counts.Total > 0 ? "a" : "div")}>\n");
        }
        html.Add($"</div>\n");
        Suppressed(options.Suppressions);
        if (options.Ignored is ErrorSummary ignored) Ignored(ignored);
        html.Add($"</section>\n");
        if (run.Death is DeathInfo death) Death(death);
    }

    private void Suppressed(IReadOnlyList<(string Name, int Count)> used)
    {
        if (used.Count == 0) return;
        html.Add($"<div class=\"note\" id=\"suppressed\"><strong>Suppressed:</strong> {HtmlErrorSections.Plural(used.Sum(u => (long)u.Count), "occurrence")}");
        html.Add($" by {HtmlErrorSections.Plural(used.Count, "suppression")}, not shown or counted above.<ul class=\"supp\">");
        foreach ((string name, int count) in used) html.Add($"<li><code>{name}</code> <span class=\"muted\">×{count:N0}</span></li>");
        html.Add($"</ul></div>\n");
    }

    private void Ignored(ErrorSummary ignored)
    {
        html.Add($"<div class=\"note\" id=\"ignored\"><strong>Not counted as errors</strong> (--leak-check=summary; --leak-check=full lists them):<ul>");
        foreach (ErrorKindInfo kind in ErrorKinds.All.Where(k => ignored[k.Kind].Total > 0))
        {
            KindCounts counts = ignored[kind.Kind];
            html.Add($"<li>{kind.SummaryNoun}: {counts.Unique:N0} unique, {counts.Total:N0} total");
            if (kind.CountsBytes) html.Add($", {HtmlErrorSections.Plural(counts.Bytes, "byte")}");
            html.Add($"</li>");
        }
        html.Add($"</ul></div>\n");
    }

    private void Death(DeathInfo death)
    {
        // The description is the text report's note (with the pc, the instruction and the frame for a fault).
        html.Add($"<section class=\"death\" id=\"death\">\n<h2>The program died of {death.Name}</h2>\n<p>{Sentence(death.Description)}");
        if (death.ErrorId is int id) html.Add($" The access is <a href=\"#e{id}\">error #{id}</a>.");
        html.Add($"</p>\n");
        if (death.Stack is { Count: > 0 } stack) stacks.Stack(stack, openSite: true);
        html.Add($"</section>\n");
    }

    /// <summary>"sent from outside" as a sentence: "Sent from outside."</summary>
    private static string Sentence(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..] + (text.EndsWith('.') ? "" : ".");

    /// <summary>The run did not end with status 0 of its own accord.</summary>
    private static bool Ended(RunInfo run) =>
        run.Death is not null || run.EngineFailure is not null || (run.Exec is null && run.Nudge is null && run.ExitCode != 0);

    private static string Status(RunInfo run) => run switch
    {
        { EngineFailure: not null } => "run incomplete: memcheck stopped the program",
        { Death: DeathInfo death } => $"killed by {death.Name}",
        { Exec: string exec } => $"exec'd {exec}: this process's report ends there",
        { Nudge: int nudge } => $"nudge {nudge}: a leak check while the program ran",
        _ => $"exited with status {run.ExitCode}",
    };

    /// <summary>The command as a shell would take it back: arguments with spaces or specials single-quoted.</summary>
    private static string CommandLine(RunInfo run) => string.Join(' ', new[] { run.Program }.Concat(run.Args).Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(IsPlain) ? word : "'" + word.Replace("'", "'\\''") + "'";

    /// <summary>A character a shell takes as itself, quoted or not.</summary>
    private static bool IsPlain(char c) => char.IsAsciiLetterOrDigit(c) || "_@%+=:,./-".Contains(c);
}
