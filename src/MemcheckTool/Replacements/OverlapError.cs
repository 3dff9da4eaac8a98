namespace Checker.MemcheckTool.Replacements;

/// <summary>
/// A copy routine called with overlapping source and destination (a record: src/Reports presents
/// it). <see cref="Stack"/> holds return addresses, innermost first: the replaced routine's own
/// frame (the call to the hook inside it), then the program's call of the routine.
/// </summary>
/// <param name="Function">The routine the program called, as the replacement names itself (memcpy, strcpy, ...).</param>
/// <param name="Length">The routine's n argument (elements for wmemcpy); shown only by routines that take one.</param>
/// <param name="Character">memccpy's c argument.</param>
public sealed record OverlapError(string Function, ulong Destination, ulong Source, ulong Length, int Character, ulong[] Stack)
{
    /// <summary>The call as the program wrote it: <c>memcpy(0x1000, 0x1004, 21)</c>, <c>strcpy(0x1000, 0x1004)</c>, <c>memccpy(0x1000, 0x1004, 35, 21)</c>.</summary>
    public string Call
    {
        get
        {
            string pointers = $"0x{Destination:x}, 0x{Source:x}";
            return StringReplacements.OverlapArguments.GetValueOrDefault(Function, CopyArguments.PointersAndLength) switch
            {
                CopyArguments.Pointers => $"{Function}({pointers})",
                CopyArguments.PointersCharacterAndLength => $"{Function}({pointers}, {Character}, {Length})",
                _ => $"{Function}({pointers}, {Length})",
            };
        }
    }
}

/// <summary>What a copy routine takes besides its destination and source.</summary>
public enum CopyArguments
{
    /// <summary>strcpy(dst, src).</summary>
    Pointers,
    /// <summary>memcpy(dst, src, n).</summary>
    PointersAndLength,
    /// <summary>memccpy(dst, src, c, n).</summary>
    PointersCharacterAndLength,
}
