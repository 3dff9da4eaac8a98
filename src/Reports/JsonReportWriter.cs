using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Checker.Reports.Json;

namespace Checker.Reports;

/// <summary>
/// Writes the machine-readable report of <c>--json FILE</c> (issue 3's schema, version 1):
/// <c>{"version", "program", "args", "pid", "exit_code", "errors": [...], "summary": {...}}</c>.
/// "suppressed": [{"name", "count"}] follows when suppressions silenced errors (added in version 1: readers ignore what they do not know).
/// "summary.kinds" has one entry per kind whose check ran (<see cref="ErrorSummary.CheckedKinds"/>):
/// a reader can tell "checked, none found" (an entry with zero counts) from "not checked" (no entry).
/// Serialization is source-generated (memcheck is NativeAOT: no reflection).
/// </summary>
public static class JsonReportWriter
{
    /// <summary>The schema version written in "version".</summary>
    public const int SchemaVersion = 1;

    // Options given here replace the context's attribute, so they repeat it. Relaxed escaping keeps
    // paths readable ("c++", "ä"); the output is a file, never HTML.
    private static readonly ReportJsonContext Context = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>
    /// Writes the report to <paramref name="path"/> through a temporary file in the same directory
    /// renamed over it, so a reader sees the old file or the whole new one, never half a file.
    /// </summary>
    /// <param name="ignored">Findings counted but not reported as errors (leaks under --leak-check=summary): summary.ignored.</param>
    /// <param name="suppressed">What suppressions silenced, by suppression name ("suppressed"); default: the collector's.</param>
    public static void WriteFile(string path, RunInfo run, ErrorCollector collector, ErrorSummary? ignored = null,
        IReadOnlyList<(string Name, int Count)>? suppressed = null) =>
        WriteFile(path, run, collector.Errors, collector.Summary(), ignored, suppressed ?? collector.UsedSuppressions);

    /// <inheritdoc cref="WriteFile(string, RunInfo, ErrorCollector, ErrorSummary?, IReadOnlyList{ValueTuple{string, int}}?)"/>
    public static void WriteFile(string path, RunInfo run, IReadOnlyList<ReportedError> errors, ErrorSummary summary, ErrorSummary? ignored = null,
        IReadOnlyList<(string Name, int Count)>? suppressed = null)
    {
        ReportFile.Replace(path, run.Pid, stream => Write(stream, run, errors, summary, ignored, suppressed));
    }

    /// <summary>Writes the report as UTF-8 JSON to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, RunInfo run, IReadOnlyList<ReportedError> errors, ErrorSummary summary, ErrorSummary? ignored = null,
        IReadOnlyList<(string Name, int Count)>? suppressed = null) =>
        JsonSerializer.Serialize(stream, Document(run, errors, summary, ignored, suppressed), Context.ReportDocument);

    /// <summary>The report as a JSON string.</summary>
    public static string Serialize(RunInfo run, IReadOnlyList<ReportedError> errors, ErrorSummary summary, ErrorSummary? ignored = null,
        IReadOnlyList<(string Name, int Count)>? suppressed = null) =>
        JsonSerializer.Serialize(Document(run, errors, summary, ignored, suppressed), Context.ReportDocument);

    private static ReportDocument Document(RunInfo run, IReadOnlyList<ReportedError> errors, ErrorSummary summary, ErrorSummary? ignored,
        IReadOnlyList<(string Name, int Count)>? suppressed) => new()
    {
        Version = SchemaVersion,
        Program = run.Program,
        Args = run.Args,
        Pid = run.Pid,
        ExitCode = run.Exec is null && run.Nudge is null ? run.ExitCode : null,
        Nudge = run.Nudge,
        Exec = run.Exec is string exec ? new ExecDocument { Program = exec } : null,
        Signal = run.Death is DeathInfo death
            ? new SignalDocument
            {
                Number = death.Signal,
                Name = death.Name,
                Description = death.Description,
                Pc = death.Pc is ulong pc ? Hex(pc) : null,
                Address = death.Address is ulong address ? Hex(address) : null,
                Error = death.ErrorId,
                Stack = death.Stack is { } stack ? Stack(stack) : null,
            }
            : null,
        EngineFailure = run.EngineFailure is EngineFailureInfo failure ? new EngineFailureDocument { Message = failure.Message } : null,
        Errors = errors.Select(Error).ToArray(),
        Summary = Summary(summary, ignored),
        Suppressed = suppressed is { Count: > 0 } ? suppressed.Select(s => new SuppressedDocument { Name = s.Name, Count = s.Count }).ToArray() : null,
    };

    private static ErrorDocument Error(ReportedError error)
    {
        ErrorRecord record = error.Record;
        return new ErrorDocument
        {
            Id = error.Id,
            Kind = record.Kind.JsonName(),
            Message = record.Description,
            Count = error.Count,
            Thread = record.Thread,
            Tid = record.ThreadOrigin?.Tid ?? 0,
            Access = record.Access is AccessInfo access
                ? new AccessDocument { Type = access.Type.ToString().ToLowerInvariant(), Address = Hex(access.Address), Size = access.Size }
                : null,
            Stack = Stack(record.Stack),
            Block = record.Block is BlockInfo block
                ? new BlockDocument
                {
                    Address = Hex(block.Address),
                    Size = block.Size,
                    State = block.State == BlockState.Allocated ? "allocated" : "freed",
                    AllocStack = Stack(block.AllocStack),
                    FreeStack = block.FreeStack is { } freeStack ? Stack(freeStack) : null,
                }
                : null,
            Leak = record.Leak is LeakInfo leak
                ? new LeakDocument { Bytes = leak.Bytes, Blocks = leak.Blocks, Indirect = leak.Indirect, IndirectBytes = leak.IndirectBytes, IndirectBlocks = leak.IndirectBlocks }
                : null,
        };
    }

    private static FrameDocument[] Stack(IReadOnlyList<ReportFrame> frames) => frames.Select(frame => new FrameDocument
    {
        Pc = Hex(frame.Pc),
        Module = frame.Replaced ? null : frame.ModulePath,
        Offset = frame.ModulePath is null || frame.Replaced ? null : Hex(frame.ModuleOffset),
        Function = frame.Function,
        File = frame.Replaced ? null : frame.File,
        Line = frame.Replaced ? null : frame.Line,
        Replaced = frame.Replaced ? true : null,
    }).ToArray();

    private static SummaryDocument Summary(ErrorSummary summary, ErrorSummary? ignored) => new()
    {
        Unique = summary.Unique,
        Total = summary.Total,
        // Only the kinds whose check ran: a check not built (or turned off) is absent, not zero.
        Kinds = Kinds(summary, summary.CheckedKinds),
        Ignored = ignored is null ? null : Kinds(ignored, ErrorKinds.All.Where(kind => ignored[kind.Kind].Total > 0)),
    };

    private static Dictionary<string, KindSummaryDocument> Kinds(ErrorSummary summary, IEnumerable<ErrorKindInfo> kinds) =>
        kinds.ToDictionary(
            kind => kind.JsonName,
            kind => new KindSummaryDocument
            {
                Unique = summary[kind.Kind].Unique,
                Total = summary[kind.Kind].Total,
                Bytes = kind.CountsBytes ? summary[kind.Kind].Bytes : null,
            });

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
