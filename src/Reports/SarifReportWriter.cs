using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Checker.Reports.Sarif;

namespace Checker.Reports;

/// <summary>What a SARIF report says about memcheck itself and where it ran.</summary>
/// <param name="Version">memcheck's version (tool.driver.version).</param>
/// <param name="CommandLine">memcheck's own command line, options and program included (invocation.arguments).</param>
/// <param name="WorkingDirectory">The directory memcheck started in: relative artifact URIs are relative to it.</param>
public sealed record SarifToolInfo(string Version, IReadOnlyList<string> CommandLine, string WorkingDirectory);

/// <summary>
/// Writes <c>--sarif FILE</c>: SARIF 2.1.0 for code-scanning tools (GitHub code scanning, GitLab,
/// Azure DevOps, IDE viewers). One run: tool.driver "memcheck" with one rule per error kind
/// (<see cref="SarifRules"/>), one result per unique error that is reported (suppressed errors
/// never are), the working directory as the uriBaseId <see cref="SourceRoot.BaseId"/>, and one
/// invocation saying how the program ended (exit code, or the signal it died of, as a notification
/// too; an engine failure makes the run unsuccessful). Results are described in
/// <see cref="SarifResults"/>. Written with Utf8JsonWriter: no reflection in the NativeAOT binary.
/// </summary>
public static class SarifReportWriter
{
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";
    public const string SarifVersion = "2.1.0";

    /// <summary>Writes the report to <paramref name="path"/> through a temporary file renamed over it (a reader never sees half a file).</summary>
    /// <param name="suppressions">The suppressions used, when the caller gathers them from several collectors (default: the collector's).</param>
    public static void WriteFile(string path, RunInfo run, ErrorCollector collector, SarifToolInfo tool,
        IReadOnlyList<(string Name, int Count)>? suppressions = null)
    {
        ReportFile.Replace(path, run.Pid, stream => Write(stream, run, collector.Errors, collector.Summary(), suppressions ?? collector.UsedSuppressions, tool));
    }

    /// <summary>Writes the report as UTF-8 to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, RunInfo run, IReadOnlyList<ReportedError> errors, ErrorSummary summary,
        IReadOnlyList<(string Name, int Count)> usedSuppressions, SarifToolInfo tool)
    {
        // Relaxed escaping keeps paths and messages readable; the output is a file, never HTML.
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var root = new SourceRoot(tool.WorkingDirectory);
        json.WriteStartObject();
        json.WriteString("$schema", SchemaUri);
        json.WriteString("version", SarifVersion);
        json.WriteStartArray("runs");
        json.WriteStartObject();
        WriteTool(json, tool);
        var sources = new SourceLines();
        WriteInvocation(json, run, tool, root, sources);
        json.WriteStartObject("originalUriBaseIds");
        json.WriteStartObject(SourceRoot.BaseId);
        json.WriteString("uri", root.DirectoryUri);
        Text(json, "description", "The directory memcheck ran in.");
        json.WriteEndObject();
        json.WriteEndObject();
        var results = new SarifResults(root, sources, run.Program);
        json.WriteStartArray("results");
        foreach (ReportedError error in errors) results.Write(json, error);
        json.WriteEndArray();
        json.WriteString("columnKind", "unicodeCodePoints");
        json.WriteStartObject("properties");
        json.WriteNumber("uniqueErrors", summary.Unique);
        json.WriteNumber("totalErrors", summary.Total);
        json.WriteStartArray("usedSuppressions");
        foreach ((string name, int count) in usedSuppressions)
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteNumber("count", count);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The report as a string (tests).</summary>
    public static string Serialize(RunInfo run, IReadOnlyList<ReportedError> errors, ErrorSummary summary, SarifToolInfo tool)
    {
        using var stream = new MemoryStream();
        Write(stream, run, errors, summary, [], tool);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteTool(Utf8JsonWriter json, SarifToolInfo tool)
    {
        json.WriteStartObject("tool");
        json.WriteStartObject("driver");
        json.WriteString("name", "memcheck");
        json.WriteString("fullName", "memcheck, a memory error detector for x86-64 Linux programs");
        json.WriteString("version", tool.Version);
        json.WriteStartArray("rules");
        foreach (SarifRule rule in SarifRules.All) WriteRule(json, rule);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteRule(Utf8JsonWriter json, SarifRule rule)
    {
        json.WriteStartObject();
        json.WriteString("id", rule.Id);
        json.WriteString("name", rule.Name);
        Text(json, "shortDescription", rule.ShortDescription);
        Text(json, "fullDescription", rule.FullDescription);
        Text(json, "help", rule.Help);
        json.WriteStartObject("defaultConfiguration");
        json.WriteString("level", rule.Level);
        json.WriteEndObject();
        json.WriteStartObject("properties");
        json.WriteStartArray("tags");
        foreach (string tag in rule.Tags) json.WriteStringValue(tag);
        json.WriteEndArray();
        json.WriteString("precision", "high");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteInvocation(Utf8JsonWriter json, RunInfo run, SarifToolInfo tool, SourceRoot root, SourceLines sources)
    {
        json.WriteStartArray("invocations");
        json.WriteStartObject();
        json.WriteString("commandLine", string.Join(' ', tool.CommandLine.Select(ShellWord)));
        json.WriteStartArray("arguments");
        foreach (string argument in tool.CommandLine.Skip(1)) json.WriteStringValue(argument);
        json.WriteEndArray();
        json.WriteNumber("processId", run.Pid);
        json.WriteBoolean("executionSuccessful", run.EngineFailure is null);
        // memcheck ends the way the program ended: killed by its signal, or with its exit code.
        // A report that ends at an exec or is a nudge's has no exit at all.
        if (run.Death is DeathInfo death)
        {
            json.WriteString("exitSignalName", death.Name);
            json.WriteNumber("exitSignalNumber", death.Signal);
        }
        else if (run.Exec is null && run.Nudge is null)
        {
            json.WriteNumber("exitCode", run.ExitCode);
        }
        if (run.Death != null || run.EngineFailure != null || run.Exec != null)
        {
            json.WriteStartArray("toolExecutionNotifications");
            if (run.Death is DeathInfo died) WriteDeath(json, died, new SarifLocations(root, sources));
            if (run.EngineFailure is EngineFailureInfo failure) WriteNotification(json, "error", $"memcheck stopped the program: {failure.Message}");
            if (run.Exec is string exec) WriteNotification(json, "note", $"The program execs {exec}: its report ends here.");
            json.WriteEndArray();
        }
        json.WriteStartObject("workingDirectory");
        json.WriteString("uri", root.DirectoryUri);
        json.WriteEndObject();
        json.WriteStartObject("properties");
        json.WriteString("program", run.Program);
        json.WriteStartArray("programArguments");
        foreach (string argument in run.Args) json.WriteStringValue(argument);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
    }

    private static void WriteDeath(Utf8JsonWriter json, DeathInfo death, SarifLocations locations)
    {
        string at = death.Pc is ulong pc ? $" at 0x{pc:x}" : "";
        string address = death.Address is ulong a ? $", address 0x{a:x}" : "";
        string error = death.ErrorId is int id ? $" (error #{id} reports the access)" : "";
        json.WriteStartObject();
        json.WriteString("level", "warning");
        SarifLocations.WriteMessage(json, SarifLocations.Escape($"The program died of {death.Name} ({death.Description}){at}{address}{error}."));
        if (death.Stack is { } stack && SourceRoot.PrimaryFrame(stack) is ReportFrame frame)
        {
            json.WriteStartArray("locations");
            locations.Write(json, frame);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteNotification(Utf8JsonWriter json, string level, string message)
    {
        json.WriteStartObject();
        json.WriteString("level", level);
        SarifLocations.WriteMessage(json, SarifLocations.Escape(message.EndsWith('.') ? message : message + "."));
        json.WriteEndObject();
    }

    private static void Text(Utf8JsonWriter json, string property, string text)
    {
        json.WriteStartObject(property);
        json.WriteString("text", text);
        json.WriteEndObject();
    }

    // A word of a POSIX shell command line: quoted when it holds anything but safe characters.
    private static string ShellWord(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
