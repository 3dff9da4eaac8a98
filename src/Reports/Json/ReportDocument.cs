using System.Text.Json.Serialization;

namespace Checker.Reports.Json;

// The JSON report's schema (issue 3, deliverable 7; later issues keep it), one shape per class so
// the source generator can write it without reflection. Property names become snake_case; null
// properties are omitted (fields that do not apply). Addresses are "0x..." strings.

internal sealed class ReportDocument
{
    public int Version { get; init; }
    public required string Program { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public int Pid { get; init; }
    /// <summary>Absent when the report ends at an exec ("exec").</summary>
    public int? ExitCode { get; init; }
    /// <summary>The program this process exec'd (absent when it exited or died): its report ends there.</summary>
    public ExecDocument? Exec { get; init; }
    public int? Nudge { get; init; }
    /// <summary>The signal the program died of (absent when it exited).</summary>
    public SignalDocument? Signal { get; init; }
    /// <summary>Why memcheck stopped the run early (absent when it did not): the results are incomplete.</summary>
    public EngineFailureDocument? EngineFailure { get; init; }
    public required IReadOnlyList<ErrorDocument> Errors { get; init; }
    public required SummaryDocument Summary { get; init; }
    /// <summary>What suppressions silenced, one entry per suppression name used (absent when none was).</summary>
    public IReadOnlyList<SuppressedDocument>? Suppressed { get; init; }
}

internal sealed class SuppressedDocument
{
    public required string Name { get; init; }
    public int Count { get; init; }
}

internal sealed class SignalDocument
{
    public int Number { get; init; }
    public required string Name { get; init; }
    public required string Description { get; init; }
    public string? Pc { get; init; }
    public string? Address { get; init; }
    /// <summary>The error (by id) that reports the faulting access.</summary>
    public int? Error { get; init; }
    public IReadOnlyList<FrameDocument>? Stack { get; init; }
}

internal sealed class ExecDocument
{
    public required string Program { get; init; }
}

internal sealed class EngineFailureDocument
{
    public required string Message { get; init; }
}

internal sealed class ErrorDocument
{
    public int Id { get; init; }
    public required string Kind { get; init; }
    public required string Message { get; init; }
    public int Count { get; init; }
    public int Thread { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Tid { get; init; }
    public AccessDocument? Access { get; init; }
    public required IReadOnlyList<FrameDocument> Stack { get; init; }
    public BlockDocument? Block { get; init; }
    public LeakDocument? Leak { get; init; }
}

internal sealed class AccessDocument
{
    public required string Type { get; init; }
    public required string Address { get; init; }
    public ulong Size { get; init; }
}

internal sealed class FrameDocument
{
    public required string Pc { get; init; }
    public string? Module { get; init; }
    public string? Offset { get; init; }
    public string? Function { get; init; }
    public string? File { get; init; }
    public int? Line { get; init; }
    /// <summary>True in a routine memcheck replaces (strlen): no module, file or line of memcheck's is given.</summary>
    public bool? Replaced { get; init; }
}

internal sealed class BlockDocument
{
    public required string Address { get; init; }
    public ulong Size { get; init; }
    public required string State { get; init; }
    public required IReadOnlyList<FrameDocument> AllocStack { get; init; }
    public IReadOnlyList<FrameDocument>? FreeStack { get; init; }
}

internal sealed class LeakDocument
{
    public ulong Bytes { get; init; }
    public ulong Blocks { get; init; }
    public bool Indirect { get; init; }
    public ulong IndirectBytes { get; init; }
    public ulong IndirectBlocks { get; init; }
}

internal sealed class SummaryDocument
{
    public int Unique { get; init; }
    public int Total { get; init; }
    /// <summary>Every kind by its JSON name, in the table's order.</summary>
    public required Dictionary<string, KindSummaryDocument> Kinds { get; init; }
    /// <summary>Kinds found but not reported as errors (leaks under --leak-check=summary); absent when none.</summary>
    public Dictionary<string, KindSummaryDocument>? Ignored { get; init; }
}

internal sealed class KindSummaryDocument
{
    public int Unique { get; init; }
    public int Total { get; init; }
    /// <summary>Only for kinds that count bytes (leaks).</summary>
    public ulong? Bytes { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(ReportDocument))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
