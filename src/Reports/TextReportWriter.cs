using System.Globalization;
using System.Text;

namespace Checker.Reports;

/// <summary>
/// The text report in Dr. Memory's spirit, every line prefixed <c>memcheck: </c> (or what the
/// caller's prefix says: <c>memcheck[PID]: </c> once the process has forked):
/// <code>
/// memcheck: Error #1: UNADDRESSABLE ACCESS beyond heap bounds: writing 1 byte(s) at 0x...
/// memcheck: #0 main [/abs/x.c:7] (x+0x1149)
/// memcheck: Note: in thread 4242          (only once the program has had more than one thread)
/// memcheck: Note: the 10-byte block at 0x... was allocated here:
/// memcheck: #0 malloc [...] (libc.so.6+0x...)
/// </code>
/// An error is shown once, at its first occurrence (pass <see cref="WriteError"/> as the
/// collector's onFirstOccurrence); repeats show only in the counts of <see cref="WriteSummary"/>.
/// </summary>
/// <param name="output">Where the lines go.</param>
/// <param name="prefix">What each line starts with, asked per report (default <see cref="Prefix"/>).</param>
/// <param name="threadCount">How many threads the program has had, asked per error: the thread is named only above one,
/// as Valgrind names it only once there is another (default: one thread).</param>
public sealed class TextReportWriter(TextWriter output, Func<string>? prefix = null, Func<int>? threadCount = null)
{
    /// <summary>What every line starts with by default.</summary>
    public const string Prefix = "memcheck: ";

    private readonly Lock _lock = new();
    private readonly Func<string> _prefix = prefix ?? (() => Prefix);
    private readonly Func<int> _threadCount = threadCount ?? (() => 1);

    /// <summary>
    /// --gen-suppressions: the suppression block for an error (null: none), written right after it,
    /// in the same write, without the line prefix so that it pastes into a file unchanged (as
    /// Valgrind prints it without its ==pid== prefix).
    /// </summary>
    public Func<ErrorRecord, string?>? SuppressionBlock { get; init; }

    /// <summary>Shows one error: headline, callstack, thread, and the block's allocation and free stacks.</summary>
    public void WriteError(ReportedError error)
    {
        ErrorRecord record = error.Record;
        var text = new StringBuilder();
        Line(text, "");
        Line(text, $"Error #{error.Id}: {record.Kind.Headline()}{(record.Detail is null ? ":" : $" {record.Detail}:")} {record.Message}");
        Frames(text, record.Stack);
        // Leaks belong to no thread (found by the scan at exit).
        if (_threadCount() > 1 && record.Leak is null)
        {
            ThreadOrigin? origin = record.ThreadOrigin;
            string tid = origin != null ? $" (tid {origin.Tid})" : "";
            if (origin is { CreatedAt.Count: > 0 })
            {
                Line(text, $"Note: in thread {record.Thread}{tid}, created here:");
                Frames(text, origin.CreatedAt);
            }
            else Line(text, $"Note: in thread {record.Thread}{tid}{(record.Thread == 1 ? ", the main thread" : "")}");
        }
        if (record.Block is BlockInfo block)
        {
            Line(text, $"Note: the {block.Size}-byte block at {Hex(block.Address)} was allocated here:");
            Frames(text, block.AllocStack);
            if (block.FreeStack is { } freeStack)
            {
                Line(text, "Note: and freed here:");
                Frames(text, freeStack);
            }
        }
        if (SuppressionBlock?.Invoke(record) is string suppression) text.Append(suppression);
        Write(text);
    }

    /// <summary>A note outside any error (how the program died), with its stack when it has one.</summary>
    public void WriteNote(string headline, IReadOnlyList<ReportFrame> frames)
    {
        var text = new StringBuilder();
        Line(text, "");
        Line(text, headline);
        Frames(text, frames);
        Write(text);
    }

    /// <summary>
    /// The program's own text (VALGRIND_PRINTF): each line under the prefix as it stands (spaces
    /// kept), then a stack when it asked for one (VALGRIND_PRINTF_BACKTRACE).
    /// </summary>
    public void WriteMessage(string message, IReadOnlyList<ReportFrame> frames)
    {
        var text = new StringBuilder();
        string[] lines = message.Split('\n');
        int count = message.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        for (int i = 0; i < count; i++) text.Append(_prefix()).Append(lines[i]).Append('\n');
        Frames(text, frames);
        Write(text);
    }

    /// <summary>
    /// The table at exit, one line per kind: unique and total counts (and bytes for leaks), under
    /// <c>ERRORS FOUND:</c>, or <c>NO ERRORS FOUND:</c> when there were none.
    /// </summary>
    /// <param name="incomplete">Why the run stopped early (an engine failure): the table then only says what was found so far.</param>
    public void WriteSummary(ErrorSummary summary, string? incomplete = null)
    {
        var text = new StringBuilder();
        Line(text, "");
        Line(text, incomplete is not null ? $"RUN INCOMPLETE ({incomplete}): ERRORS FOUND SO FAR:"
            : summary.Total == 0 ? "NO ERRORS FOUND:" : "ERRORS FOUND:");
        foreach (ErrorKindInfo kind in summary.CheckedKinds) CountsLine(text, kind, summary[kind.Kind]);
        Write(text);
    }

    /// <summary>
    /// Findings that are not errors (leaks under <c>--leak-check=summary</c>), as Dr. Memory's
    /// <c>ERRORS IGNORED:</c>: one line per kind that has any, and why they are not listed.
    /// </summary>
    public void WriteIgnored(ErrorSummary ignored, string howToList)
    {
        var text = new StringBuilder();
        Line(text, $"ERRORS IGNORED ({howToList}):");
        foreach (ErrorKindInfo kind in ErrorKinds.All)
            if (ignored[kind.Kind].Total > 0) CountsLine(text, kind, ignored[kind.Kind]);
        Write(text);
    }

    /// <summary>
    /// What suppressions silenced (Valgrind's used_suppression): how many errors, then one line per
    /// suppression with its count, in order of first use; <paramref name="location"/> (for -v) adds
    /// where each is defined. Nothing when nothing was suppressed.
    /// </summary>
    public void WriteSuppressed(IReadOnlyList<(string Name, int Count)> used, Func<string, string?>? location = null)
    {
        if (used.Count == 0) return;
        var text = new StringBuilder();
        Line(text, Invariant($"SUPPRESSED: {used.Sum(u => u.Count)} error(s) by {used.Count} suppression(s):"));
        foreach ((string name, int count) in used)
            Line(text, Invariant($"{count,7} {name}") + (location?.Invoke(name) is string where ? $" ({where})" : ""));
        Write(text);
    }

    private void CountsLine(StringBuilder text, ErrorKindInfo kind, KindCounts counts) =>
        Line(text, kind.CountsBytes
            ? Invariant($"{counts.Unique,7} unique, {counts.Total,5} total, {counts.Bytes,6} byte(s) of {kind.SummaryNoun}")
            : Invariant($"{counts.Unique,7} unique, {counts.Total,5} total {kind.SummaryNoun}"));

    private void Write(StringBuilder text)
    {
        // One write per error, so lines of concurrent reports never interleave.
        lock (_lock)
        {
            output.Write(text.ToString());
            output.Flush();
        }
    }

    private void Frames(StringBuilder text, IReadOnlyList<ReportFrame> frames)
    {
        for (int i = 0; i < frames.Count; i++) Line(text, Invariant($"#{i} {frames[i]}"));
    }

    private void Line(StringBuilder text, string line) => text.Append((_prefix() + line).TrimEnd()).Append('\n');

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
