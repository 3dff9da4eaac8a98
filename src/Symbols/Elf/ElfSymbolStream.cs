using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Checker.Symbols.Native;

namespace Checker.Symbols.Elf;

/// <summary>
/// The entries and names a scan over a symbol table reads (<see cref="ElfSymbolTable"/> in memory,
/// <see cref="ElfSymbolStream"/> from the file), so one scan serves both.
/// </summary>
public interface IElfSymbolSource
{
    /// <summary>The entries, the null symbol at index 0 included.</summary>
    int Count { get; }

    ElfSymbolEntry this[int index] { get; }

    /// <summary>Whether the entry's name is empty (or out of range, as <see cref="ElfSymbolTable.NameOf"/> takes it).</summary>
    bool NameIsEmpty(in ElfSymbolEntry symbol);

    /// <summary>The entry as a record, its name read.</summary>
    ElfSymbol ToSymbol(in ElfSymbolEntry symbol);
}

/// <summary>
/// A symbol table read from its file a window at a time, keeping nothing after: a scan for one
/// address (<see cref="Symbolization.FunctionSymbolTable.Scan{TFirst, TSecond}"/>) goes through the
/// entries in order and reads a name only where it decides. Read into memory as a whole
/// (<see cref="ElfImage.ReadSymbolTable"/>), libc's debug .symtab and .strtab stayed for the rest
/// of the run: 372 KB of managed heap, read at a threaded program's exit to match its thread's
/// stack to a default suppression, where it was the peak of the run (threads1: ~0.5 MB of its
/// 3.8 MB beyond /bin/true's).
/// </summary>
public sealed class ElfSymbolStream : IElfSymbolSource, IDisposable
{
    private const int EntrySize = ElfConstants.SymSize;
    // 2,048 entries a window: libc's debug .symtab (10,000 entries) in five reads.
    private const int WindowEntries = 2048;
    private const int NameChunk = 256;

    private readonly RegularFile? _file;
    private readonly bool _ownsFile;
    private readonly ulong _entriesOffset, _stringsOffset, _stringsSize;
    private byte[]? _window;
    private int _windowFirst, _windowCount;

    /// <summary>No entries (a module without a separate debug file).</summary>
    public static ElfSymbolStream Empty => new(null, false, 0, 0, 0, 0);

    internal ElfSymbolStream(RegularFile? file, bool ownsFile, ulong entriesOffset, int count, ulong stringsOffset, ulong stringsSize)
    {
        _file = file;
        _ownsFile = ownsFile;
        _entriesOffset = entriesOffset;
        Count = file == null ? 0 : count;
        _stringsOffset = stringsOffset;
        _stringsSize = stringsSize;
    }

    public int Count { get; }

    public ElfSymbolEntry this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            if (index < _windowFirst || index >= _windowFirst + _windowCount) Load(index);
            ReadOnlySpan<byte> e = _window.AsSpan((index - _windowFirst) * EntrySize, EntrySize);
            byte info = e[4];
            return new ElfSymbolEntry(BinaryPrimitives.ReadUInt32LittleEndian(e),
                BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), BinaryPrimitives.ReadUInt64LittleEndian(e[16..]),
                (ElfSymbolType)(info & 0xf), (ElfSymbolBinding)(info >> 4), BinaryPrimitives.ReadUInt16LittleEndian(e[6..]));
        }
    }

    private void Load(int index)
    {
        _window ??= ArrayPool<byte>.Shared.Rent(WindowEntries * EntrySize);
        int count = Math.Min(WindowEntries, Count - index);
        Span<byte> into = _window.AsSpan(0, count * EntrySize);
        // A file that changed under us reads as zeros: null entries, which every scan skips.
        if (ReadAt(_entriesOffset + (ulong)index * EntrySize, into) != into.Length) into.Clear();
        (_windowFirst, _windowCount) = (index, count);
    }

    public bool NameIsEmpty(in ElfSymbolEntry symbol)
    {
        if (symbol.NameOffset >= _stringsSize) return true;
        Span<byte> first = stackalloc byte[1];
        return ReadAt(_stringsOffset + symbol.NameOffset, first) != 1 || first[0] == 0;
    }

    public ElfSymbol ToSymbol(in ElfSymbolEntry symbol) =>
        new(Name(symbol), symbol.Value, symbol.Size, symbol.Type, symbol.Binding, symbol.SectionIndex);

    private string Name(in ElfSymbolEntry symbol)
    {
        if (symbol.NameOffset >= _stringsSize) return "";
        var bytes = new List<byte>(NameChunk);
        Span<byte> chunk = stackalloc byte[NameChunk];
        for (ulong at = symbol.NameOffset; at < _stringsSize; at += NameChunk)
        {
            int n = ReadAt(_stringsOffset + at, chunk[..(int)Math.Min(NameChunk, _stringsSize - at)]);
            int nul = chunk[..n].IndexOf((byte)0);
            foreach (byte b in chunk[..(nul < 0 ? n : nul)]) bytes.Add(b);
            if (nul >= 0 || n < NameChunk) break;
        }
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    private int ReadAt(ulong offset, Span<byte> into)
    {
        int read = 0;
        while (read < into.Length)
        {
            int n = _file!.Read(into[read..], (long)offset + read);
            if (n <= 0) break;
            read += n;
        }
        return read;
    }

    public void Dispose()
    {
        if (_window != null) ArrayPool<byte>.Shared.Return(_window);
        _window = null;
        if (_ownsFile) _file?.Dispose();
    }
}
