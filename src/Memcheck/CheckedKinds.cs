using Checker.Reports;

namespace Checker.Memcheck;

/// <summary>
/// Which error kinds a run checks for: the summary table and the JSON's summary.kinds list only
/// these, so a check that is not built, or is turned off, is never shown as "0 found".
/// </summary>
public static class CheckedKinds
{
    private static readonly ErrorKind[] LeakKinds = [ErrorKind.Leak, ErrorKind.PossibleLeak];

    /// <summary>The kinds checked under <paramref name="settings"/> (every kind not excluded, so a new kind shows by default).</summary>
    public static IReadOnlyList<ErrorKind> For(MemcheckSettings settings) =>
        Enum.GetValues<ErrorKind>()
            .Where(kind => kind != ErrorKind.Uninitialized || (settings.CheckHeap && settings.CheckUninitialized))
            .Where(kind => settings.ScanForLeaks || !LeakKinds.Contains(kind))
            .ToArray();
}
