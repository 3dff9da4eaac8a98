using Checker.Symbols.Elf;

namespace Checker.Symbols.Symbolization;

/// <summary>
/// The function symbols of an ELF file's .symtab (or .dynsym when stripped), sorted for
/// address lookup: the fallback name, as symbol+offset, where there is no DWARF.
/// </summary>
internal sealed class FunctionSymbolTable
{
    private readonly ElfSymbol[] _symbols;
    private readonly ulong[] _starts;

    public FunctionSymbolTable(IEnumerable<ElfSymbol> symbols)
    {
        // Of several names at one address keep the one a person knows: global before weak before
        // local, then the fewest leading underscores (malloc, not __libc_malloc), then the shorter.
        _symbols = symbols
            .Where(s => s.IsDefined && s.Value != 0 && s.Name.Length > 0 && s.Type is ElfSymbolType.Func or ElfSymbolType.GnuIfunc)
            .OrderBy(s => s.Value)
            .ThenBy(s => s.Binding switch { ElfSymbolBinding.Global => 0, ElfSymbolBinding.Weak => 1, _ => 2 })
            .ThenBy(s => s.Name.Length - s.Name.TrimStart('_').Length)
            .ThenBy(s => s.Name.Length)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .DistinctBy(s => s.Value)
            .ToArray();
        _starts = _symbols.Select(s => s.Value).ToArray();
    }

    /// <summary>Number of distinct function addresses.</summary>
    public int Count => _symbols.Length;

    /// <summary>
    /// The function containing <paramref name="address"/> (unbiased) and the offset into it; null
    /// when the nearest function below ends before the address (a stripped static function,
    /// padding, PLT). A symbol of size 0 (hand-written assembly) is taken to extend to the next one.
    /// </summary>
    public (ElfSymbol Symbol, ulong Offset)? Find(ulong address)
    {
        int index = Array.BinarySearch(_starts, address);
        if (index < 0) index = ~index - 1;
        if (index < 0) return null;
        ElfSymbol symbol = _symbols[index];
        ulong offset = address - symbol.Value;
        if (symbol.Size != 0 && offset >= symbol.Size) return null;
        return (symbol, offset);
    }
}
