using System.Buffers.Binary;
using System.Text;

namespace Checker.Symbols.Elf;

/// <summary>
/// An ELF64 x86-64 file read into memory: header, program headers, sections, symbols, build-id and
/// debuglink. Validation is strict about what a loader needs and reports one clear line.
/// </summary>
public sealed class ElfImage
{
    private readonly byte[] _bytes;

    private ElfImage(string path, byte[] bytes)
    {
        Path = path;
        _bytes = bytes;
    }

    public string Path { get; }
    public ElfType Type { get; private set; }
    public ulong Entry { get; private set; }
    public ulong ProgramHeaderOffset { get; private set; }
    public ushort ProgramHeaderEntrySize { get; private set; }
    public ushort ProgramHeaderCount { get; private set; }
    public IReadOnlyList<ElfProgramHeader> ProgramHeaders { get; private set; } = [];
    public IReadOnlyList<ElfSection> Sections { get; private set; } = [];
    /// <summary>PT_INTERP: the dynamic loader this program asks for.</summary>
    public string? Interpreter { get; private set; }
    public bool IsPositionIndependent => Type == ElfType.Shared;
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Page-aligned bounds of the PT_LOAD segments (unbiased).</summary>
    public ulong LowestLoadAddress => Loads().Min(p => p.VirtualAddress) & ~0xfffUL;
    public ulong HighestLoadAddress => (Loads().Max(p => p.VirtualAddress + p.MemorySize) + 0xfff) & ~0xfffUL;

    public byte[]? BuildId { get; private set; }
    public string? DebugLink { get; private set; }

    public static ElfImage Open(string path) => Parse(path, File.ReadAllBytes(path));

    public static ElfImage Parse(string path, byte[] bytes)
    {
        var image = new ElfImage(path, bytes);
        image.ReadHeader();
        return image;
    }

    private IEnumerable<ElfProgramHeader> Loads() => ProgramHeaders.Where(p => p.Type == ElfSegmentType.Load);

    private void ReadHeader()
    {
        ReadOnlySpan<byte> b = _bytes;
        if (b.Length < 4 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new ElfFormatException("not an ELF executable (no ELF magic)");
        if (b.Length < 5) throw new ElfFormatException("truncated ELF file");
        if (b[4] == ElfConstants.ClassElf32)
            throw new ElfFormatException("32-bit ELF is not supported; memcheck runs x86-64 programs");
        if (b[4] != ElfConstants.ClassElf64) throw new ElfFormatException($"unknown ELF class {b[4]}");
        if (b.Length < ElfConstants.HeaderSize) throw new ElfFormatException("truncated ELF file (header cut short)");
        if (b[5] != ElfConstants.DataLittleEndian) throw new ElfFormatException("big-endian ELF is not x86-64");

        ushort machine = U16(18);
        if (machine != ElfConstants.MachineX86_64) throw new ElfFormatException($"ELF for machine {machine} is not x86-64");
        Type = (ElfType)U16(16);
        if (Type is not (ElfType.Executable or ElfType.Shared))
            throw new ElfFormatException(Type switch
            {
                ElfType.Relocatable => "a relocatable object file, not an executable",
                ElfType.Core => "a core dump, not an executable",
                _ => $"ELF type {(ushort)Type} is not an executable",
            });
        Entry = U64(24);
        ProgramHeaderOffset = U64(32);
        ulong sectionHeaderOffset = U64(40);
        ProgramHeaderEntrySize = U16(54);
        ProgramHeaderCount = U16(56);
        ushort shentsize = U16(58), shnum = U16(60), shstrndx = U16(62);
        if (ProgramHeaderCount > 0 && ProgramHeaderEntrySize != ElfConstants.ProgramHeaderSize)
            throw new ElfFormatException($"bad program header size {ProgramHeaderEntrySize}");
        if (!InBounds(ProgramHeaderOffset, (ulong)ProgramHeaderCount * ElfConstants.ProgramHeaderSize))
            throw new ElfFormatException("truncated ELF file (program headers cut short)");

        var phs = new List<ElfProgramHeader>();
        for (int i = 0; i < ProgramHeaderCount; i++)
        {
            int o = (int)ProgramHeaderOffset + i * ElfConstants.ProgramHeaderSize;
            var ph = new ElfProgramHeader((ElfSegmentType)U32(o), (ElfSegmentFlags)U32(o + 4), U64(o + 8), U64(o + 16),
                U64(o + 24), U64(o + 32), U64(o + 40), U64(o + 48));
            if (ph.Type is ElfSegmentType.Load or ElfSegmentType.Interp && ph.FileSize > 0 && !InBounds(ph.Offset, ph.FileSize))
                throw new ElfFormatException("truncated ELF file (a segment lies beyond the end of the file)");
            phs.Add(ph);
        }
        ProgramHeaders = phs;
        if (!phs.Any(p => p.Type == ElfSegmentType.Load)) throw new ElfFormatException("no loadable segments");

        foreach (ElfProgramHeader ph in phs.Where(p => p.Type == ElfSegmentType.Interp))
            Interpreter = Encoding.UTF8.GetString(b.Slice((int)ph.Offset, (int)ph.FileSize)).TrimEnd('\0');

        if (sectionHeaderOffset != 0 && shnum > 0 && shentsize == ElfConstants.SectionHeaderSize &&
            InBounds(sectionHeaderOffset, (ulong)shnum * ElfConstants.SectionHeaderSize))
            ReadSections(sectionHeaderOffset, shnum, shstrndx);
        ReadNotes();
    }

    private void ReadSections(ulong offset, int count, int nameIndex)
    {
        var raw = new List<(uint Name, uint Type, ulong Flags, ulong Addr, ulong Off, ulong Size, uint Link, uint Info, ulong EntSize)>();
        for (int i = 0; i < count; i++)
        {
            int o = (int)offset + i * ElfConstants.SectionHeaderSize;
            raw.Add((U32(o), U32(o + 4), U64(o + 8), U64(o + 16), U64(o + 24), U64(o + 32), U32(o + 40), U32(o + 44), U64(o + 56)));
        }
        ulong namesOffset = nameIndex < raw.Count ? raw[nameIndex].Off : 0;
        Sections = raw.Select(s => new ElfSection(String(namesOffset + s.Name), s.Type, s.Flags, s.Addr, s.Off, s.Size, s.Link, s.Info, s.EntSize)).ToList();
        ElfSection? link = Sections.FirstOrDefault(s => s.Name == ".gnu_debuglink");
        if (link != null && InBounds(link.Offset, link.Size)) DebugLink = String(link.Offset);
    }

    private void ReadNotes()
    {
        var notes = ProgramHeaders.Where(p => p.Type == ElfSegmentType.Note).Select(p => (p.Offset, p.FileSize))
            .Concat(Sections.Where(s => s.Type == ElfConstants.ShtNote).Select(s => (s.Offset, s.Size)));
        foreach ((ulong start, ulong size) in notes)
        {
            if (!InBounds(start, size)) continue;
            ulong o = start;
            while (o + 12 <= start + size)
            {
                uint nameSize = U32((int)o), descSize = U32((int)o + 4), type = U32((int)o + 8);
                ulong name = o + 12, desc = name + Align4(nameSize);
                if (!InBounds(desc, descSize)) break;
                if (type == ElfConstants.NtGnuBuildId && nameSize == 4 && String(name) == "GNU")
                {
                    BuildId = _bytes.AsSpan((int)desc, (int)descSize).ToArray();
                    return;
                }
                o = desc + Align4(descSize);
            }
        }
    }

    /// <summary>Symbols of .symtab, or of .dynsym when the file is stripped.</summary>
    public IReadOnlyList<ElfSymbol> ReadSymbols()
    {
        ElfSection? table = Sections.FirstOrDefault(s => s.Type == ElfConstants.ShtSymtab)
                            ?? Sections.FirstOrDefault(s => s.Type == ElfConstants.ShtDynsym);
        if (table == null || table.Link >= Sections.Count || !InBounds(table.Offset, table.Size)) return [];
        ulong strings = Sections[(int)table.Link].Offset;
        var symbols = new List<ElfSymbol>();
        for (ulong o = table.Offset; o + ElfConstants.SymbolSize <= table.Offset + table.Size; o += ElfConstants.SymbolSize)
        {
            int i = (int)o;
            byte info = _bytes[i + 4];
            symbols.Add(new ElfSymbol(String(strings + U32(i)), U64(i + 8), U64(i + 16), (ElfSymbolType)(info & 0xf), (byte)(info >> 4), U16(i + 6)));
        }
        return symbols;
    }

    private static ulong Align4(ulong v) => (v + 3) & ~3UL;
    private bool InBounds(ulong offset, ulong length) => offset <= (ulong)_bytes.Length && length <= (ulong)_bytes.Length - offset;
    private ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(o));
    private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(o));
    private ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(o));

    private string String(ulong offset)
    {
        if (offset >= (ulong)_bytes.Length) return "";
        int start = (int)offset, end = Array.IndexOf(_bytes, (byte)0, start);
        return Encoding.UTF8.GetString(_bytes, start, (end < 0 ? _bytes.Length : end) - start);
    }
}
