using System.Diagnostics.CodeAnalysis;

namespace Checker.Reports;

/// <summary>
/// One row per <see cref="ErrorKind"/>: its JSON name (issue 3's schema, kept by later issues), the
/// text report's headline, and the noun of its line in the summary table.
/// </summary>
/// <param name="Kind">The kind this row describes (rows are in enum order).</param>
/// <param name="JsonName">The value of an error's "kind" in the JSON report.</param>
/// <param name="Headline">The words after <c>Error #n:</c> in the text report.</param>
/// <param name="SummaryNoun">What the summary counts, as in Dr. Memory's "ERRORS FOUND:" table.</param>
/// <param name="CountsBytes">The summary line also gives the bytes involved (leaks).</param>
public sealed record ErrorKindInfo(ErrorKind Kind, string JsonName, string Headline, string SummaryNoun, bool CountsBytes);

/// <summary>The table of error kinds: names and texts live here, not in switches.</summary>
public static class ErrorKinds
{
    private static readonly ErrorKindInfo[] Table =
    [
        new(ErrorKind.Unaddressable,       "unaddressable",    "UNADDRESSABLE ACCESS",  "unaddressable access(es)", CountsBytes: false),
        new(ErrorKind.Uninitialized,       "uninitialized",    "UNINITIALIZED READ",    "uninitialized access(es)", CountsBytes: false),
        new(ErrorKind.InvalidHeapArgument, "invalid-heap-arg", "INVALID HEAP ARGUMENT", "invalid heap argument(s)", CountsBytes: false),
        new(ErrorKind.Leak,                "leak",             "LEAK",                  "leak(s)",                  CountsBytes: true),
        new(ErrorKind.PossibleLeak,        "possible-leak",    "POSSIBLE LEAK",         "possible leak(s)",         CountsBytes: true),
        new(ErrorKind.Overlap,             "overlap",          "OVERLAP",               "overlapping copy(ies)",    CountsBytes: false),
        new(ErrorKind.FishyArgument,       "fishy-argument",   "FISHY ARGUMENT",        "fishy argument(s)",        CountsBytes: false),
    ];

    static ErrorKinds()
    {
        // Permanently engaged: a row out of order would silently mislabel every report.
        for (int i = 0; i < Table.Length; i++)
        {
            if ((int)Table[i].Kind != i) throw new InvalidOperationException($"ErrorKinds row {i} is {Table[i].Kind}");
        }
        if (Table.Length != Enum.GetValues<ErrorKind>().Length) throw new InvalidOperationException("ErrorKinds misses a kind");
    }

    /// <summary>Every row, in enum order.</summary>
    public static IReadOnlyList<ErrorKindInfo> All => Table;

    /// <summary>The row of <paramref name="kind"/>.</summary>
    public static ErrorKindInfo Info(this ErrorKind kind) => Table[(int)kind];

    /// <summary>The JSON name: <c>unaddressable</c>, <c>invalid-heap-arg</c>, ...</summary>
    public static string JsonName(this ErrorKind kind) => Table[(int)kind].JsonName;

    /// <summary>The text headline: <c>UNADDRESSABLE ACCESS</c>, ...</summary>
    public static string Headline(this ErrorKind kind) => Table[(int)kind].Headline;

    /// <summary>The kind a JSON name stands for (for readers of the report, such as the tests).</summary>
    public static bool TryParseJsonName(string name, [NotNullWhen(true)] out ErrorKind? kind)
    {
        foreach (ErrorKindInfo row in Table)
        {
            if (row.JsonName == name)
            {
                kind = row.Kind;
                return true;
            }
        }
        kind = null;
        return false;
    }
}
