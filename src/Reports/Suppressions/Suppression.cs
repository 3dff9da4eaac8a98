namespace Checker.Reports.Suppressions;

/// <summary>
/// One Memcheck suppression as read from a Valgrind suppression file: its name, the kind of error
/// it silences, that kind's extra line, and the stack it must match, innermost first.
/// </summary>
/// <param name="Name">The name line (how the summary counts what it silenced).</param>
/// <param name="Kind">The kind after <c>Memcheck:</c> (<c>Addr4</c>, <c>Cond</c>, <c>Param</c>, <c>Leak</c>, ...; the old <c>Value0</c> is read as <c>Cond</c>).</param>
/// <param name="Extra">A Param's call and parameter (<c>write(buf)</c>), a FishyValue's <c>malloc(size)</c>; null otherwise.</param>
/// <param name="LeakKinds">A Leak's <c>match-leak-kinds:</c> (of definite, indirect, possible, reachable); null: every kind.</param>
/// <param name="Frames">The location lines, innermost first.</param>
/// <param name="File">The file it was read from.</param>
/// <param name="Line">The line of its name in that file.</param>
public sealed record Suppression(
    string Name,
    string Kind,
    string? Extra,
    IReadOnlySet<string>? LeakKinds,
    IReadOnlyList<SuppressionFrame> Frames,
    string File,
    int Line)
{
    /// <summary>Where it is defined: <c>FILE:LINE</c>, as Valgrind's used_suppression lines say.</summary>
    public string Location => $"{File}:{Line}";
}
