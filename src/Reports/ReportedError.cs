namespace Checker.Reports;

/// <summary>
/// A unique error: its number (in order of first occurrence, from 1), the record of its first
/// occurrence, and how many times it happened so far. A snapshot: the collector keeps counting.
/// </summary>
public sealed record ReportedError(int Id, ErrorRecord Record, int Count)
{
    /// <summary>The suppression that silenced this occurrence (then <see cref="Id"/> is 0 and it is not shown).</summary>
    public string? SuppressedBy { get; init; }
}
