namespace Checker.Reports;

/// <summary>The counts of one kind: unique errors, all occurrences, and for leaks the bytes of all occurrences.</summary>
public readonly record struct KindCounts(int Unique, int Total, ulong Bytes);

/// <summary>Unique and total counts per kind, for the summary at exit.</summary>
public sealed class ErrorSummary
{
    private readonly KindCounts[] _counts;

    internal ErrorSummary(KindCounts[] counts, IReadOnlyList<ErrorKindInfo> checkedKinds)
    {
        _counts = counts;
        CheckedKinds = checkedKinds;
    }

    /// <summary>
    /// The kinds whose check ran, in table order: the ones the summary table and the JSON list. A
    /// check that is not built (or was turned off) is left out rather than counted as zero.
    /// </summary>
    public IReadOnlyList<ErrorKindInfo> CheckedKinds { get; }

    /// <summary>The counts of <paramref name="kind"/>.</summary>
    public KindCounts this[ErrorKind kind] => _counts[(int)kind];

    /// <summary>Unique errors of every kind.</summary>
    public int Unique => _counts.Sum(c => c.Unique);

    /// <summary>Occurrences of every kind.</summary>
    public int Total => _counts.Sum(c => c.Total);
}
