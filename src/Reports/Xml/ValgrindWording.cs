using System.Globalization;

namespace Checker.Reports.Xml;

/// <summary>
/// Valgrind's words for an error, built from memcheck's record, for the XML report: the
/// <c>&lt;kind&gt;</c>, the one-line <c>&lt;what&gt;</c> ("Invalid read of size 4"), a leak's
/// text ("64 (32 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss record 3 of 4")
/// and the <c>&lt;auxwhat&gt;</c> lines that describe the address, each with the stack that follows it
/// ("Address 0x4a4004a is 0 bytes after a block of size 10 alloc'd" and the allocation's stack).
/// Where the record does not hold what Valgrind would say, the text says what memcheck knows.
/// </summary>
internal static class ValgrindWording
{
    /// <summary>The kinds whose <c>&lt;what&gt;</c> is always the same line.</summary>
    private static readonly Dictionary<string, string> FixedWhat = new()
    {
        ["InvalidJump"] = "Jump to the invalid address stated on the next line",
        ["InvalidFree"] = "Invalid free() / delete / delete[] / realloc()",
        ["MismatchedFree"] = "Mismatched free() / delete / delete []",
        ["UninitCondition"] = "Conditional jump or move depends on uninitialised value(s)",
    };

    /// <summary>How each leak kind is said in a loss record.</summary>
    private static readonly Dictionary<string, string> LeakWords = new()
    {
        ["Leak_DefinitelyLost"] = "definitely lost",
        ["Leak_IndirectlyLost"] = "indirectly lost",
        ["Leak_PossiblyLost"] = "possibly lost",
        ["Leak_StillReachable"] = "still reachable",
    };

    /// <summary>The XML kind when detection gave no Valgrind kind (every path gives one today).</summary>
    private static readonly Dictionary<ErrorKind, string> KindByErrorKind = new()
    {
        [ErrorKind.Unaddressable] = "InvalidRead",
        [ErrorKind.Uninitialized] = "UninitCondition",
        [ErrorKind.InvalidHeapArgument] = "InvalidFree",
        [ErrorKind.Leak] = "Leak_DefinitelyLost",
        [ErrorKind.PossibleLeak] = "Leak_PossiblyLost",
        [ErrorKind.Overlap] = "Overlap",
        [ErrorKind.FishyArgument] = "FishyValue",
    };

    /// <summary>The record's <c>&lt;kind&gt;</c>.</summary>
    public static string Kind(ErrorRecord record)
    {
        if (record.Valgrind is ValgrindKind valgrind) return valgrind.XmlKind;
        if (record.Access is { Type: AccessType.Write }) return "InvalidWrite";
        if (record.Access is { Type: AccessType.Execute }) return "InvalidJump";
        return KindByErrorKind.GetValueOrDefault(record.Kind, "InvalidRead");
    }

    /// <summary>The <c>&lt;what&gt;</c> line of an error that is not a leak.</summary>
    public static string What(ErrorRecord record)
    {
        string kind = Kind(record);
        if (FixedWhat.TryGetValue(kind, out string? text)) return text;
        return kind switch
        {
            "InvalidRead" => $"Invalid read of size {Number(record.Access?.Size ?? 0)}",
            "InvalidWrite" => $"Invalid write of size {Number(record.Access?.Size ?? 0)}",
            "UninitValue" => $"Use of uninitialised value of size {ValueSize(record.Valgrind)}",
            "SyscallParam" => $"Syscall param {record.Valgrind?.Extra ?? "?"} " + (record.Kind == ErrorKind.Unaddressable
                ? "points to unaddressable byte(s)"
                // Memory the call reads has an address; a register argument has none.
                : record.Address is null ? "contains uninitialised byte(s)" : "points to uninitialised byte(s)"),
            // "source and destination overlap in memcpy(0x.., 0x.., 30)"; FishyValue's message is Valgrind's line already.
            _ => Capitalized(record.Message),
        };
    }

    /// <summary>A loss record's text: its bytes (direct and indirect when some are indirect), blocks, kind, and its place among the loss records.</summary>
    public static string LeakText(ErrorRecord record, int number, int of)
    {
        LeakInfo leak = record.Leak!;
        string bytes = leak.IndirectBytes > 0
            ? $"{Number(leak.Bytes)} ({Number(leak.DirectBytes)} direct, {Number(leak.IndirectBytes)} indirect) bytes"
            : $"{Number(leak.Bytes)} bytes";
        string lost = LeakWords.GetValueOrDefault(Kind(record), "definitely lost");
        return $"{bytes} in {Number(leak.Blocks)} blocks are {lost} in loss record {number} of {of}";
    }

    /// <summary>
    /// The <c>&lt;auxwhat&gt;</c> lines of an error that is not a leak, in order, each with the stack
    /// shown after it (null: none): where the address lies, then (uninitialized values with
    /// --track-origins) the allocation the value came from.
    /// </summary>
    public static IEnumerable<(string Text, IReadOnlyList<ReportFrame>? Stack)> Auxiliary(ErrorRecord record)
    {
        string kind = Kind(record);
        if (record.Leak is not null || kind is "Overlap" or "FishyValue") yield break;
        if (record.Kind == ErrorKind.Uninitialized)
        {
            if (record.Address is ulong read && record.AddressBlock is BlockInfo holder)
                foreach (var line in InBlock(read, holder)) yield return line;
            if (record.Block is BlockInfo origin) yield return ("Uninitialised value was created by a heap allocation", origin.AllocStack);
            yield break;
        }
        if ((record.Access?.Address ?? record.Address ?? record.Block?.Address) is not ulong address) yield break;
        if (record.Block is BlockInfo block)
        {
            foreach (var line in InBlock(address, block)) yield return line;
        }
        else if (record.Detail == "beyond top of stack")
        {
            yield return ($"Address {Hex(address)} is on thread {Number(record.Thread)}'s stack", null);
        }
        else if (kind is "InvalidFree" or "MismatchedFree")
        {
            // memcheck does not tell a stack address from others here: it only knows no heap block holds it.
            yield return ($"Address {Hex(address)} is not in any heap block", null);
        }
        else
        {
            yield return ($"Address {Hex(address)} is not stack'd, malloc'd or (recently) free'd", null);
        }
    }

    /// <summary>Where <paramref name="address"/> lies against a block; a freed block adds its allocation.</summary>
    private static IEnumerable<(string, IReadOnlyList<ReportFrame>?)> InBlock(ulong address, BlockInfo block)
    {
        ulong end = block.Address + block.Size;
        string where = address < block.Address ? $"{Number(block.Address - address)} bytes before"
            : address >= end ? $"{Number(address - end)} bytes after"
            : $"{Number(address - block.Address)} bytes inside";
        string size = Number(block.Size);
        if (block.State == BlockState.Freed && block.FreeStack is { } freed)
        {
            yield return ($"Address {Hex(address)} is {where} a block of size {size} free'd", freed);
            yield return ("Block was alloc'd at", block.AllocStack);
        }
        else
        {
            yield return ($"Address {Hex(address)} is {where} a block of size {size} {(block.State == BlockState.Freed ? "free'd" : "alloc'd")}", block.AllocStack);
        }
    }

    /// <summary>The size in the suppression kind Value8.</summary>
    private static string ValueSize(ValgrindKind? kind) =>
        kind?.SuppressionKind is string value && value.StartsWith("Value", StringComparison.Ordinal) ? value["Value".Length..] : "?";

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
