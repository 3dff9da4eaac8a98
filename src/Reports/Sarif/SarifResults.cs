using System.Text.Json;

namespace Checker.Reports.Sarif;

/// <summary>
/// Writes one SARIF result per reported error: its rule, level and message; its location, the
/// innermost frame of the user's own code (<see cref="SourceRoot.PrimaryFrame"/>); the whole stack
/// as a code flow (outermost call first, as a path is read), and for an error about a heap block
/// the allocation and free stacks as code flows of their own and their user frames as related
/// locations the message links to; a partial fingerprint (<see cref="StackFingerprint"/>); the
/// occurrence count, and the access, block or loss in properties.
/// </summary>
internal sealed class SarifResults(SourceRoot root, SourceLines sources, string program)
{
    private readonly SarifLocations _locations = new(root, sources);
    private readonly StackFingerprint _fingerprints = new(root, sources);

    public void Write(Utf8JsonWriter json, ReportedError error)
    {
        ErrorRecord record = error.Record;
        SarifRule rule = record.Kind.Rule();
        BlockInfo? block = record.Block;
        ReportFrame? allocated = block is null ? null : SourceRoot.PrimaryFrame(block.AllocStack);
        ReportFrame? freed = block?.FreeStack is { } freeStack ? SourceRoot.PrimaryFrame(freeStack) : null;

        json.WriteStartObject();
        json.WriteString("ruleId", rule.Id);
        json.WriteNumber("ruleIndex", (int)record.Kind);
        json.WriteString("level", rule.Level);
        SarifLocations.WriteMessage(json, Message(record, allocated != null, freed != null));

        json.WriteStartArray("locations");
        if (SourceRoot.PrimaryFrame(record.Stack) is ReportFrame primary) _locations.Write(json, primary, snippets: true);
        else _locations.WriteFile(json, program, "The program (no frame of the stack is in a known module).");
        json.WriteEndArray();

        if (allocated != null || freed != null)
        {
            json.WriteStartArray("relatedLocations");
            if (allocated != null) _locations.Write(json, allocated, $"The {block!.Size}-byte block was allocated here.", id: 1);
            if (freed != null) _locations.Write(json, freed, "The block was freed here.", id: 2);
            json.WriteEndArray();
        }

        json.WriteStartArray("codeFlows");
        WriteCodeFlow(json, record.Stack, record.Leak is null
            ? $"The stack of the error in thread {record.Thread}, outermost call first."
            : "Where the leaked block was allocated, outermost call first.");
        if (block != null) WriteCodeFlow(json, block.AllocStack, $"Where the {block.Size}-byte block was allocated, outermost call first.");
        if (block?.FreeStack is { } frees) WriteCodeFlow(json, frees, "Where the block was freed, outermost call first.");
        json.WriteEndArray();

        json.WriteStartObject("partialFingerprints");
        json.WriteString(StackFingerprint.Key, _fingerprints.Next(rule.Id, record.Stack));
        json.WriteEndObject();

        json.WriteNumber("occurrenceCount", error.Count);
        WriteProperties(json, error);
        json.WriteEndObject();
    }

    /// <summary>The headline and description, as the text report's first line, with links to the block's related locations.</summary>
    private static string Message(ErrorRecord record, bool allocated, bool freed)
    {
        string text = $"{record.Kind.Headline()}{(record.Detail is null ? ":" : $" {record.Detail}:")} {record.Message}";
        text = SarifLocations.Escape(text);
        if (!text.EndsWith('.')) text += ".";
        if (allocated && freed) text += " The block was allocated [here](1) and freed [here](2).";
        else if (allocated) text += " The block was allocated [here](1).";
        else if (freed) text += " The block was freed [here](2).";
        return text;
    }

    /// <summary>One code flow of one thread flow: the frames from the outermost call to the innermost.</summary>
    private void WriteCodeFlow(Utf8JsonWriter json, IReadOnlyList<ReportFrame> stack, string message)
    {
        if (stack.Count == 0) return; // a thread flow needs at least one location
        json.WriteStartObject();
        SarifLocations.WriteMessage(json, message);
        json.WriteStartArray("threadFlows");
        json.WriteStartObject();
        json.WriteStartArray("locations");
        for (int depth = 0; depth < stack.Count; depth++)
        {
            ReportFrame frame = stack[stack.Count - 1 - depth];
            json.WriteStartObject();
            json.WritePropertyName("location");
            _locations.Write(json, frame, SarifLocations.Describe(frame));
            json.WriteNumber("nestingLevel", depth);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteProperties(Utf8JsonWriter json, ReportedError error)
    {
        ErrorRecord record = error.Record;
        json.WriteStartObject("properties");
        json.WriteNumber("errorId", error.Id);
        json.WriteNumber("occurrences", error.Count);
        if (record.Leak is null) json.WriteNumber("thread", record.Thread);
        if (record.Valgrind is ValgrindKind valgrind) json.WriteString("valgrindKind", valgrind.XmlKind);
        if (record.Access is AccessInfo access)
        {
            json.WriteString("accessType", access.Type.ToString().ToLowerInvariant());
            json.WriteNumber("accessSize", access.Size);
        }
        if (record.Block is BlockInfo block)
        {
            json.WriteNumber("blockSize", block.Size);
            json.WriteString("blockState", block.State == BlockState.Allocated ? "allocated" : "freed");
        }
        if (record.Leak is LeakInfo leak)
        {
            json.WriteNumber("leakedBytes", leak.Bytes);
            json.WriteNumber("leakedBlocks", leak.Blocks);
            json.WriteNumber("directBytes", leak.DirectBytes);
            json.WriteNumber("indirectBytes", leak.IndirectBytes);
            json.WriteNumber("indirectBlocks", leak.IndirectBlocks);
        }
        json.WriteEndObject();
    }
}
