using Checker.Symbols.Elf;

namespace Checker.Symbols.Symbolization;

/// <summary>
/// The function symbols of an ELF file's .symtab (or .dynsym when stripped), sorted for
/// address lookup: the fallback name, as symbol+offset, where there is no DWARF.
/// </summary>
internal sealed class FunctionSymbolTable
{
    // The kept symbols by start, as columns: a record and a string each (~190 bytes on a C++
    // program's mangled names) were the largest part of a large program's symbolization that stayed
    // for the whole run (cc1plus: 28K of them, 5 MB and 56K objects for the collector to walk), and
    // a report names a few hundred. Names stay UTF-8 in one array; Find makes the record it returns.
    private readonly ulong[] _starts;
    private readonly ulong[] _sizes;
    private readonly uint[] _kinds;   // type | binding << 8 | section index << 16
    private readonly int[] _nameStarts;   // one more than the symbols: name i is [_nameStarts[i], _nameStarts[i + 1])
    private readonly byte[] _names;
    // Where Valgrind's name for an address differs from the one kept above (aliases only).
    private readonly Dictionary<ulong, string> _valgrindNames = new();

    public FunctionSymbolTable(IEnumerable<ElfSymbol> symbols)
    {
        var functions = new List<ElfSymbol>(symbols is IReadOnlyCollection<ElfSymbol> all ? all.Count : 0);
        foreach (ElfSymbol s in symbols)
            if (IsFunction(s.IsDefined, s.Value, s.Name.Length, s.Type)) functions.Add(s);
        // Of several names at one address keep the one a person knows: global before weak before
        // local, then the fewest leading underscores (malloc, not __libc_malloc), then the shorter,
        // then by name; the file's order last, as a stable sort would. One array sort with a
        // precomputed key, not a chain of LINQ orderings: a large C++ program (cc1plus, ~100K
        // functions) is symbolized at its first report, and the chain cost it ~60 ms.
        var order = new (ulong Value, int Binding, int Underscores, int Index)[functions.Count];
        for (int i = 0; i < order.Length; i++)
        {
            ElfSymbol s = functions[i];
            order[i] = (s.Value, BindingRank(s.Binding), LeadingUnderscores(s.Name), i);
        }
        Array.Sort(order, (a, b) =>
        {
            int c = a.Value.CompareTo(b.Value);
            if (c == 0) c = a.Binding.CompareTo(b.Binding);
            if (c == 0) c = a.Underscores.CompareTo(b.Underscores);
            if (c != 0) return c;
            string x = functions[a.Index].Name, y = functions[b.Index].Name;
            c = x.Length.CompareTo(y.Length);
            if (c == 0) c = string.CompareOrdinal(x, y);
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        var kept = new List<ElfSymbol>(order.Length);
        for (int i = 0; i < order.Length;)
        {
            // The first of each address's run is its kept symbol; Valgrind's name is the one it
            // prefers of all of them (a total order on distinct names: the run's order does not matter).
            ElfSymbol first = functions[order[i].Index];
            kept.Add(first);
            string preferred = first.Name;
            for (i++; i < order.Length && order[i].Value == first.Value; i++)
            {
                string name = functions[order[i].Index].Name;
                if (!ValgrindPrefers(preferred, name)) preferred = name;
            }
            if (preferred != first.Name) _valgrindNames[first.Value] = preferred;
        }
        int count = kept.Count;
        _starts = new ulong[count];
        _sizes = new ulong[count];
        _kinds = new uint[count];
        _nameStarts = new int[count + 1];
        int bytes = 0;
        for (int i = 0; i < count; i++) bytes += System.Text.Encoding.UTF8.GetByteCount(kept[i].Name);
        _names = new byte[bytes];
        for (int i = 0, at = 0; i < count; i++)
        {
            ElfSymbol k = kept[i];
            (_starts[i], _sizes[i]) = (k.Value, k.Size);
            _kinds[i] = (uint)(byte)k.Type | (uint)(byte)k.Binding << 8 | (uint)k.SectionIndex << 16;
            _nameStarts[i] = at;
            at += System.Text.Encoding.UTF8.GetBytes(k.Name, _names.AsSpan(at));
        }
        _nameStarts[count] = bytes;
    }

    /// <summary>Kept symbol <paramref name="i"/> as a record.</summary>
    private ElfSymbol SymbolAt(int i) =>
        new(System.Text.Encoding.UTF8.GetString(_names, _nameStarts[i], _nameStarts[i + 1] - _nameStarts[i]), _starts[i], _sizes[i],
            (ElfSymbolType)(byte)_kinds[i], (ElfSymbolBinding)(byte)(_kinds[i] >> 8), (ushort)(_kinds[i] >> 16));

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
    public int Count => _starts.Length;

    /// <summary>
    /// What <see cref="Find"/> and <see cref="ValgrindName"/> of a table built from
    /// <paramref name="first"/>'s symbols then <paramref name="second"/>'s answer for
    /// <paramref name="address"/>, from one pass over the raw entries: only the function's aliases
    /// become records. Building the table reads every symbol into a record and sorts them (libc's
    /// debug file: 10,000, ~16 ms and megabytes of a short run), which a module asked about a few
    /// times (the stack of a suppressed leak at a threaded program's exit) does not repay.
    /// </summary>
    public static (ElfSymbol Symbol, ulong Offset, string ValgrindName)? Scan<TFirst, TSecond>(TFirst first, TSecond second, ulong address)
        where TFirst : IElfSymbolSource, allows ref struct
        where TSecond : IElfSymbolSource, allows ref struct
    {
        // The start is the nearest function below the address that has a name: a name is read only
        // for an entry that would move the start (from a file, one read each), never for the rest.
        ulong start = 0;
        bool found = FindStart(first, address, ref start) | FindStart(second, address, ref start);
        if (!found) return null;
        // The aliases at that address, in the order a table keeps them (file order last).
        ElfSymbol? kept = null;
        int keptIndex = 0, index = 0;
        string? preferred = null;
        Aliases(first, start, ref kept, ref keptIndex, ref preferred, ref index);
        Aliases(second, start, ref kept, ref keptIndex, ref preferred, ref index);
        ulong offset = address - start;
        if (kept!.Size != 0 && offset >= kept.Size) return null;
        return (kept, offset, preferred!);
    }

    private static bool FindStart<T>(T table, ulong address, ref ulong start) where T : IElfSymbolSource, allows ref struct
    {
        bool found = start != 0;
        for (int i = 1; i < table.Count; i++)
        {
            ElfSymbolEntry e = table[i];
            if (e.Value > address || e.Value <= start && found || e.Type is not (ElfSymbolType.Func or ElfSymbolType.GnuIfunc)) continue;
            if (!e.IsDefined || e.Value == 0 || table.NameIsEmpty(e)) continue;
            start = e.Value;
            found = true;
        }
        return found;
    }

    private static void Aliases<T>(T table, ulong start, ref ElfSymbol? kept, ref int keptIndex, ref string? preferred, ref int index) where T : IElfSymbolSource, allows ref struct
    {
        for (int i = 1; i < table.Count; i++)
        {
            ElfSymbolEntry e = table[i];
            if (e.Value != start || e.Type is not (ElfSymbolType.Func or ElfSymbolType.GnuIfunc) || !e.IsDefined || table.NameIsEmpty(e)) continue;
            ElfSymbol s = table.ToSymbol(e);
            if (kept is null || KeptBefore(s, index, kept, keptIndex)) (kept, keptIndex) = (s, index);
            if (preferred is null || !ValgrindPrefers(preferred, s.Name)) preferred = s.Name;
            index++;
        }
    }

    // The constructor's order of aliases (its sort key, spelled out for two records).
    private static bool KeptBefore(ElfSymbol a, int aIndex, ElfSymbol b, int bIndex)
    {
        int c = BindingRank(a.Binding).CompareTo(BindingRank(b.Binding));
        if (c == 0) c = LeadingUnderscores(a.Name).CompareTo(LeadingUnderscores(b.Name));
        if (c == 0) c = a.Name.Length.CompareTo(b.Name.Length);
        if (c == 0) c = string.CompareOrdinal(a.Name, b.Name);
        return c != 0 ? c < 0 : aIndex < bIndex;
    }

    private static bool IsFunction(bool defined, ulong value, int nameLength, ElfSymbolType type) =>
        defined && value != 0 && nameLength > 0 && type is ElfSymbolType.Func or ElfSymbolType.GnuIfunc;

    private static int BindingRank(ElfSymbolBinding binding) => binding switch { ElfSymbolBinding.Global => 0, ElfSymbolBinding.Weak => 1, _ => 2 };

    private static int LeadingUnderscores(string name)
    {
        int underscores = 0;
        while (underscores < name.Length && name[underscores] == '_') underscores++;
        return underscores;
    }

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
        ulong offset = address - _starts[index];
        if (_sizes[index] != 0 && offset >= _sizes[index]) return null;
        return (SymbolAt(index), offset);
    }
}
