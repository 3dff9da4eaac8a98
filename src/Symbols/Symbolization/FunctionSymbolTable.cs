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
    // Where Valgrind's name for an address differs from the one kept above (aliases only).
    private readonly Dictionary<ulong, string> _valgrindNames = new();

    public FunctionSymbolTable(IEnumerable<ElfSymbol> symbols)
    {
        ElfSymbol[] functions = symbols
            .Where(s => s.IsDefined && s.Value != 0 && s.Name.Length > 0 && s.Type is ElfSymbolType.Func or ElfSymbolType.GnuIfunc)
            .ToArray();
        // Of several names at one address keep the one a person knows: global before weak before
        // local, then the fewest leading underscores (malloc, not __libc_malloc), then the shorter.
        _symbols = functions
            .OrderBy(s => s.Value)
            .ThenBy(s => s.Binding switch { ElfSymbolBinding.Global => 0, ElfSymbolBinding.Weak => 1, _ => 2 })
            .ThenBy(s => s.Name.Length - s.Name.TrimStart('_').Length)
            .ThenBy(s => s.Name.Length)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .DistinctBy(s => s.Value)
            .ToArray();
        _starts = _symbols.Select(s => s.Value).ToArray();
        foreach (IGrouping<ulong, ElfSymbol> aliases in functions.GroupBy(s => s.Value))
        {
            string preferred = aliases.Select(s => s.Name).Aggregate((a, b) => ValgrindPrefers(a, b) ? a : b);
            if (preferred != _symbols[Array.BinarySearch(_starts, aliases.Key)].Name) _valgrindNames[aliases.Key] = preferred;
        }
    }

    /// <summary>
    /// The name Valgrind gives the function <paramref name="symbol"/> starts (what its suppressions
    /// match and --gen-suppressions writes): of the names at that address, the shortest counted up
    /// to a version's <c>@</c> (<c>write</c> before <c>__write</c> and <c>__libc_write</c>), then a
    /// versioned one, then the first in ordinal order, as Valgrind's debuginfo reader picks.
    /// </summary>
    public string ValgrindName(ElfSymbol symbol) => _valgrindNames.TryGetValue(symbol.Value, out string? name) ? name : symbol.Name;

    private static bool ValgrindPrefers(string a, string b)
    {
        int versionA = a.IndexOf('@', StringComparison.Ordinal), versionB = b.IndexOf('@', StringComparison.Ordinal);
        int lengthA = versionA < 0 ? a.Length : versionA, lengthB = versionB < 0 ? b.Length : versionB;
        if (lengthA != lengthB) return lengthA < lengthB;
        if ((versionA < 0) != (versionB < 0)) return versionA >= 0;
        return string.CompareOrdinal(a, b) <= 0;
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
