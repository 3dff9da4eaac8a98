using System.Buffers.Binary;
using System.Text;

namespace Checker.Tests.Loading;

/// <summary>One program header of a file being patched, with the file offset of its entry.</summary>
public readonly record struct PatchedSegment(int EntryOffset, uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize);

/// <summary>Small in-place edits of real ELF files, for tests that compare such a file natively and under memcheck.</summary>
public static class ElfPatcher
{
    public const uint PT_LOAD = 1, PT_INTERP = 3, PT_NOTE = 4, PT_PHDR = 6;
    public const uint PF_X = 1, PF_W = 2;

    public static List<PatchedSegment> Segments(byte[] bytes)
    {
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(32));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(56));
        var segments = new List<PatchedSegment>();
        for (int i = 0; i < count; i++)
        {
            int at = (int)phoff + i * 56;
            ReadOnlySpan<byte> e = bytes.AsSpan(at, 56);
            segments.Add(new PatchedSegment(at, U32(e), U32(e[4..]), U64(e[8..]), U64(e[16..]), U64(e[32..]), U64(e[40..])));
        }
        return segments;
    }

    /// <summary>Writes <paramref name="path"/> over the PT_INTERP string, NUL-padded to the segment's whole size.</summary>
    public static void SetInterpreter(byte[] bytes, string path)
    {
        PatchedSegment interp = Segments(bytes).Single(s => s.Type == PT_INTERP);
        byte[] name = Encoding.UTF8.GetBytes(path);
        if ((ulong)name.Length >= interp.FileSize) throw new ArgumentException($"{path} does not fit in PT_INTERP ({interp.FileSize} bytes)");
        Span<byte> field = bytes.AsSpan((int)interp.Offset, (int)interp.FileSize);
        field.Clear();
        name.CopyTo(field);
    }

    /// <summary>e_shoff, e_shnum and e_shstrndx zero: no section table (as sstrip leaves a file).</summary>
    public static void RemoveSectionTable(byte[] bytes)
    {
        bytes.AsSpan(40, 8).Clear();
        bytes.AsSpan(60, 4).Clear();
    }

    /// <summary>Grows p_memsz of the last read-only (not writable, not executable) PT_LOAD by <paramref name="extra"/> bytes.</summary>
    public static PatchedSegment ExtendReadOnlySegment(byte[] bytes, ulong extra)
    {
        PatchedSegment segment = Segments(bytes).Last(s => s.Type == PT_LOAD && (s.Flags & (PF_W | PF_X)) == 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(segment.EntryOffset + 40), segment.MemorySize + extra);
        return segment;
    }

    /// <summary>
    /// Turns the first PT_NOTE into a PT_PHDR that claims the program headers sit <paramref name="shift"/>
    /// bytes after where the PT_LOAD holding e_phoff puts them (the kernel ignores PT_PHDR for AT_PHDR).
    /// </summary>
    public static void AddMisleadingPhdrSegment(byte[] bytes, ulong shift)
    {
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(32));
        List<PatchedSegment> segments = Segments(bytes);
        PatchedSegment holder = segments.First(s => s.Type == PT_LOAD && s.Offset <= phoff && phoff < s.Offset + s.FileSize);
        PatchedSegment note = segments.First(s => s.Type == PT_NOTE);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(note.EntryOffset), PT_PHDR);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(note.EntryOffset + 16), holder.VirtualAddress + (phoff - holder.Offset) + shift);
    }

    /// <summary>Writes <paramref name="bytes"/> as an executable file.</summary>
    public static string WriteExecutable(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    private static uint U32(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt32LittleEndian(b);

    private static ulong U64(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt64LittleEndian(b);
}
