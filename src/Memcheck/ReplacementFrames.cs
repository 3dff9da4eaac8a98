using Checker.Symbols.Elf;
using Checker.Symbols.Symbolization;

namespace Checker.Memcheck;

/// <summary>
/// How frames in libchecker-replace.so, memcheck's replacements of libc's string routines, are
/// symbolized: as the routine the program called, by the name the object exports (every instruction
/// of the object belongs to an exported function: its helpers are inlined, a test checks it), marked
/// replaced and without memcheck's file, line or module: <c>strlen (replaced by memcheck)</c>, then
/// the program's caller. The module's DWARF would show memcheck's sources and helpers instead.
/// </summary>
public sealed class ReplacementFrames
{
    private readonly string _path;
    private readonly ulong _bias;
    private readonly ulong _start;
    private readonly ElfSymbol[] _functions;

    public ReplacementFrames(string path, ulong loadBias)
    {
        ElfImage image = ElfImage.Open(path);
        _path = path;
        _bias = loadBias;
        _start = loadBias + image.LowestLoadAddress;
        _functions = image.ReadSymbols()
            .Where(s => s.IsDefined && s.Type == ElfSymbolType.Func && s.Binding != ElfSymbolBinding.Local && s.Size > 0)
            .OrderBy(s => s.Value)
            .ToArray();
    }

    /// <summary>Is <paramref name="path"/> the replacements' object (by its file name, as mapped into the guest)?</summary>
    public static bool IsReplacementLibrary(string path) =>
        Path.GetFileName(path) == Checker.MemcheckTool.Replacements.StringReplacements.FileName;

    /// <summary>One frame for <paramref name="pc"/> (already pc - 1 for a return address).</summary>
    public IReadOnlyList<SymbolizedFrame> Symbolize(ulong pc)
    {
        ulong address = pc - _bias;
        ElfSymbol? function = _functions.LastOrDefault(s => s.Value <= address);
        string? name = function != null && address - function.Value < function.Size ? function.Name : null;
        return [new SymbolizedFrame(pc, _path, pc - _start, name, null, null, false, Replaced: true, MangledFunction: name)];
    }
}
