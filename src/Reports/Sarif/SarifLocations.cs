using System.Globalization;
using System.Text.Json;

namespace Checker.Reports.Sarif;

/// <summary>
/// Writes SARIF location objects for report frames: a source frame as its file (relative to
/// <see cref="SourceRoot"/> when inside it) and line, a frame without an absolute source path as its module and
/// offset (relativeAddress, from the module's lowest loaded address, as the text report's
/// <c>libc.so.6+0x98942</c>), a frame in memcheck's replacement of a library routine as the
/// routine's name only; every frame with a function names it as a logical location. A result's
/// own location also carries the source line and the lines around it (snippets: a viewer without
/// the sources still shows the code).
/// </summary>
internal sealed class SarifLocations(SourceRoot root, SourceLines sources)
{
    /// <summary>Lines shown before and after a result's line in its context region.</summary>
    public const int ContextLines = 2;

    /// <summary>A location object: physical location (when the frame has one), function, and an optional message.</summary>
    /// <param name="snippets">Add the line's text and its context (a result's own location).</param>
    public void Write(Utf8JsonWriter json, ReportFrame frame, string? message = null, int? id = null, bool snippets = false)
    {
        json.WriteStartObject();
        if (id is int number) json.WriteNumber("id", number);
        WritePhysical(json, frame, snippets);
        if (frame.Function != null)
        {
            json.WriteStartArray("logicalLocations");
            json.WriteStartObject();
            json.WriteString("name", frame.Function);
            json.WriteString("kind", "function");
            json.WriteEndObject();
            json.WriteEndArray();
        }
        if (message != null) WriteMessage(json, message);
        json.WriteEndObject();
    }

    /// <summary>A location that is only a file (the program itself, when a stack gives nothing better).</summary>
    public void WriteFile(Utf8JsonWriter json, string file, string message)
    {
        json.WriteStartObject();
        json.WriteStartObject("physicalLocation");
        WriteArtifact(json, file);
        json.WriteEndObject();
        WriteMessage(json, message);
        json.WriteEndObject();
    }

    /// <summary>What a frame is called in a code flow: <c>main</c>, <c>malloc</c>, <c>strlen (replaced by memcheck)</c>, <c>?? (x+0x1149)</c>.</summary>
    public static string Describe(ReportFrame frame)
    {
        if (frame.Replaced) return $"{frame.Function ?? "??"} (replaced by memcheck)";
        if (frame.Function != null && frame.File != null && Path.IsPathRooted(frame.File)) return frame.Function + (frame.Inlined ? " (inlined)" : "");
        return Escape(frame.ToString());
    }

    /// <summary>Plain text for a message: a literal bracket would read as the start of an embedded link (SARIF 3.11.6).</summary>
    public static string Escape(string text) => text.Replace("\\", "\\\\").Replace("[", "\\[").Replace("]", "\\]");

    public static void WriteMessage(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject("message");
        json.WriteString("text", text);
        json.WriteEndObject();
    }

    private void WritePhysical(Utf8JsonWriter json, ReportFrame frame, bool snippets)
    {
        // memcheck's own replacement has no file or module the user could open.
        if (frame.Replaced) return;
        // A relative source path (a library's DWARF) cannot be opened: its module and offset can.
        if (frame.File != null && Path.IsPathRooted(frame.File) && frame.Line is int line)
        {
            json.WriteStartObject("physicalLocation");
            WriteArtifact(json, frame.File);
            json.WriteStartObject("region");
            json.WriteNumber("startLine", line);
            if (snippets && sources.Line(frame.File, line) is string text) Snippet(json, text + "\n");
            json.WriteEndObject();
            if (snippets && sources.Count(frame.File) >= line)
            {
                int first = Math.Max(1, line - ContextLines), last = Math.Min(sources.Count(frame.File), line + ContextLines);
                json.WriteStartObject("contextRegion");
                json.WriteNumber("startLine", first);
                json.WriteNumber("endLine", last);
                Snippet(json, string.Concat(Enumerable.Range(first, last - first + 1).Select(n => sources.Line(frame.File, n) + "\n")));
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        else
        {
            json.WriteStartObject("physicalLocation");
            if (frame.ModulePath != null) WriteArtifact(json, frame.ModulePath);
            // No absoluteAddress: run-time addresses change with ASLR, and Microsoft's SARIF SDK
            // reads addresses as 32-bit integers (a file with a larger one fails to load).
            json.WriteStartObject("address");
            if (frame.ModulePath != null)
            {
                if (frame.ModuleOffset <= int.MaxValue) json.WriteNumber("relativeAddress", frame.ModuleOffset);
                json.WriteString("name", $"{Path.GetFileName(frame.ModulePath)}+0x{frame.ModuleOffset.ToString("x", CultureInfo.InvariantCulture)}");
            }
            else
            {
                json.WriteString("name", $"0x{frame.Pc.ToString("x", CultureInfo.InvariantCulture)}");
            }
            json.WriteString("kind", "instruction");
            json.WriteEndObject();
            json.WriteEndObject();
        }
    }

    private static void Snippet(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject("snippet");
        json.WriteString("text", text);
        json.WriteEndObject();
    }

    private void WriteArtifact(Utf8JsonWriter json, string file)
    {
        (string uri, string? baseId) = root.Artifact(file);
        json.WriteStartObject("artifactLocation");
        json.WriteString("uri", uri);
        if (baseId != null) json.WriteString("uriBaseId", baseId);
        json.WriteEndObject();
    }
}
