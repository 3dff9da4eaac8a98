using Checker.Symbols.Native;

namespace Checker.Symbols.Elf;

/// <summary>
/// The bytes of an ELF file as <see cref="ElfImage"/> reads them: the first pages at once, any other
/// range (a section table, a symbol table, a note) when it is first asked for, then kept.
/// <para>
/// Reading whole files cost every start and every report: the guest maps libc (2 MB) and large
/// programs (cc1plus: 35 MB, of which the symbol tables are 2 MB), and each image opened became a
/// large managed array (full collections, resident memory). A range asked for after the open reads
/// the file again only when it is still the same version (device, inode, size, modification time);
/// otherwise the range is absent, as damage is (best effort, never an error).
/// </para>
/// </summary>
internal sealed class ElfFileContent
{
    // The ELF header, program headers and .interp of every real file lie in the first page or two.
    private const int PrefixSize = 16 << 10;

    private readonly string? _path;
    private readonly FileIdentity _identity;
    private readonly byte[] _prefix;
    private readonly Dictionary<(ulong Offset, ulong Length), byte[]> _ranges = [];
    private RegularFile? _open;

    private ElfFileContent(byte[] prefix, ulong length, string? path, FileIdentity identity)
    {
        _prefix = prefix;
        Length = length;
        _path = path;
        _identity = identity;
    }

    /// <summary>How many bytes may be read: the file's size, at most the image's read limit.</summary>
    public ulong Length { get; }

    /// <summary>Bytes already in memory (the array is kept, not copied).</summary>
    public static ElfFileContent FromArray(byte[] bytes) => new(bytes, (ulong)bytes.Length, null, default);

    /// <summary>
    /// The content of <paramref name="file"/>, reading its first pages now; <paramref name="file"/> is
    /// read for later ranges until <see cref="Detach"/>, then <paramref name="path"/> is opened again.
    /// </summary>
    public static ElfFileContent FromFile(string path, RegularFile file, long limit)
    {
        ulong length = (ulong)Math.Min(file.Length, limit);
        byte[] prefix = ReadFully(file, 0, (int)Math.Min(length, PrefixSize), out int read);
        // A file that shrank since fstat ends where its bytes end.
        if ((ulong)read < Math.Min(length, PrefixSize)) length = (ulong)read;
        return new ElfFileContent(read == prefix.Length ? prefix : prefix[..read], length, path, file.Identity) { _open = file };
    }

    /// <summary>The file is closed by its owner: later ranges open the path again.</summary>
    public void Detach() => _open = null;

    /// <summary>[offset, offset + length), or empty when it is out of bounds or cannot be read as it was.</summary>
    public ReadOnlySpan<byte> Slice(ulong offset, ulong length)
    {
        if (offset > Length || length > Length - offset) return [];
        if (offset + length <= (ulong)_prefix.Length) return _prefix.AsSpan((int)offset, (int)length);
        if (length > int.MaxValue) return [];
        lock (_ranges)
        {
            if (_ranges.TryGetValue((offset, length), out byte[]? kept)) return kept;
            byte[]? bytes = ReadRange(offset, (int)length);
            if (bytes == null) return [];
            _ranges[(offset, length)] = bytes;
            return bytes;
        }
    }

    /// <summary>
    /// The file to read ranges from without keeping them (<see cref="ElfSymbolStream"/>): the open one
    /// (<paramref name="owned"/> false), else the path opened again if it is still the same file; null
    /// for bytes given as an array or a file gone or changed.
    /// </summary>
    public RegularFile? OpenForReading(out bool owned)
    {
        owned = false;
        if (_path == null) return null;
        if (_open != null) return _open;
        try
        {
            RegularFile again = RegularFile.Open(_path);
            if (again.Identity == _identity)
            {
                owned = true;
                return again;
            }
            again.Dispose();
            return null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private byte[]? ReadRange(ulong offset, int length)
    {
        if (_path == null) return null;
        if (_open != null) return ReadExactly(_open, offset, length);
        try
        {
            using RegularFile again = RegularFile.Open(_path);
            return again.Identity == _identity ? ReadExactly(again, offset, length) : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static byte[]? ReadExactly(RegularFile file, ulong offset, int length)
    {
        byte[] bytes = ReadFully(file, (long)offset, length, out int read);
        return read == length ? bytes : null;
    }

    private static byte[] ReadFully(RegularFile file, long offset, int length, out int read)
    {
        var bytes = new byte[length];
        read = 0;
        while (read < length)
        {
            int n = file.Read(bytes.AsSpan(read), offset + read);
            if (n == 0) break;
            read += n;
        }
        return bytes;
    }
}
