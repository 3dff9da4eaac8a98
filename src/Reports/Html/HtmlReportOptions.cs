namespace Checker.Reports.Html;

/// <summary>What the page says besides the run and its errors.</summary>
/// <param name="Version">memcheck's version, in the summary and the footer.</param>
/// <param name="Generated">When the report was written (shown in UTC).</param>
public sealed record HtmlReportOptions(string Version, DateTimeOffset Generated)
{
    /// <summary>Findings counted but not reported as errors (leaks under --leak-check=summary).</summary>
    public ErrorSummary? Ignored { get; init; }

    /// <summary>The suppressions that silenced errors, with their occurrences (<see cref="ErrorCollector.UsedSuppressions"/>).</summary>
    public IReadOnlyList<(string Name, int Count)> Suppressions { get; init; } = [];
}
