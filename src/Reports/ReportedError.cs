namespace Checker.Reports;

/// <summary>
/// A unique error: its number (in order of first occurrence, from 1), the record of its first
/// occurrence, and how many times it happened so far. A snapshot: the collector keeps counting.
/// </summary>
public sealed record ReportedError(int Id, ErrorRecord Record, int Count);
