using System.Buffers.Binary;
using System.Text;

namespace Checker.Symbols.Elf;

/// <summary>
/// A symbol table read in place: entries decoded on demand, names as UTF-8 bytes. A scan for a few
/// names allocates nothing: libc's debug file has 10,000 symbols, and a string and record for each
/// of them made the one garbage collection of <c>memcheck -- /bin/true</c>.
/// </summary>
public readonly ref struct ElfSymbolTable : IElfSymbolSource
{
    private const int EntrySize = ElfConstants.SymSize;

    private readonly ReadOnlySpan<byte> _entries;
    private readonly ReadOnlySpan<byte> _strings;

    internal ElfSymbolTable(ReadOnlySpan<byte> entries, ReadOnlySpan<byte> strings)
    {
        _entries = entries;
        _strings = strings;
    }

    /// <summary>The entries, the null symbol at index 0 included.</summary>
    public int Count => _entries.Length / EntrySize;

    public ElfSymbolEntry this[int index]
    {
        get
        {
            ReadOnlySpan<byte> e = _entries.Slice(index * EntrySize, EntrySize);
            byte info = e[4];
            return new ElfSymbolEntry(BinaryPrimitives.ReadUInt32LittleEndian(e),
                BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), BinaryPrimitives.ReadUInt64LittleEndian(e[16..]),
                (ElfSymbolType)(info & 0xf), (ElfSymbolBinding)(info >> 4), BinaryPrimitives.ReadUInt16LittleEndian(e[6..]));
        }
    }

    /// <summary>The entry's NUL-terminated name; empty when out of range.</summary>
    public ReadOnlySpan<byte> NameOf(in ElfSymbolEntry symbol)
    {
        if (symbol.NameOffset >= (uint)_strings.Length) return [];
        ReadOnlySpan<byte> rest = _strings[(int)symbol.NameOffset..];
        int nul = rest.IndexOf((byte)0);
        return nul < 0 ? rest : rest[..nul];
    }

    public bool NameIsEmpty(in ElfSymbolEntry symbol) => NameOf(symbol).IsEmpty;

    public ElfSymbol ToSymbol(in ElfSymbolEntry symbol) =>
        new(Encoding.UTF8.GetString(NameOf(symbol)), symbol.Value, symbol.Size, symbol.Type, symbol.Binding, symbol.SectionIndex);
}

/// <summary>One raw entry of an <see cref="ElfSymbolTable"/> (its name still an offset).</summary>
public readonly record struct ElfSymbolEntry(uint NameOffset, ulong Value, ulong Size, ElfSymbolType Type, ElfSymbolBinding Binding, ushort SectionIndex)
{
    public bool IsDefined => SectionIndex != ElfConstants.SHN_UNDEF;
}

/// <summary>Looks up string-keyed tables by a symbol's UTF-8 name without making a string of it.</summary>
public static class Utf8NameLookup
{
    private const int StackChars = 256;

    public static bool TryGetValue<T>(this Dictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> table, ReadOnlySpan<byte> utf8Name, out string key, out T value)
    {
        // A name never has more chars than bytes; longer than the buffer (rare: long mangled C++ names) costs a string.
        if (utf8Name.Length > StackChars)
        {
            string name = Encoding.UTF8.GetString(utf8Name);
            bool found = table.Dictionary.TryGetValue(name, out value!);
            key = name;
            return found;
        }
        Span<char> chars = stackalloc char[StackChars];
        int length = Encoding.UTF8.GetChars(utf8Name, chars);
        return table.TryGetValue(chars[..length], out key!, out value!);
    }
}
