using System.Buffers.Binary;
using System.Text;
using static Checker.Symbols.Elf.ElfConstants;

namespace Checker.Symbols.Elf;

/// <summary>
/// An ELF64 x86-64 executable or shared object read into memory: header, program headers,
/// sections, symbols, build-id and debuglink. Validation is strict about what a loader needs and
/// reports each problem as one <see cref="ElfFormatException"/> line; everything past the
/// header is bounds-checked, so a damaged file never surfaces as an index exception.
/// </summary>
public sealed class ElfImage
{
    private const ulong PageMask = 0xfff;

    // Above the largest user address (5-level paging); also keeps vaddr + memsz from overflowing.
    private const ulong UserAddressLimit = 1UL << 56;

    private readonly byte[] _bytes;

    private ElfImage(string path, byte[] bytes)
    {
        Path = path;
        _bytes = bytes;
    }

    /// <summary>The path the image was read from (as given).</summary>
    public string Path { get; }

    /// <summary>e_type: <see cref="ElfType.Executable"/> or <see cref="ElfType.Shared"/>.</summary>
    public ElfType Type { get; private set; }

    /// <summary>e_entry, unbiased.</summary>
    public ulong Entry { get; private set; }

    /// <summary>e_phoff: file offset of the program headers.</summary>
    public ulong ProgramHeaderOffset { get; private set; }

    /// <summary>e_phentsize (always 56 once parsed); AT_PHENT.</summary>
    public ushort ProgramHeaderEntrySize { get; private set; }

    /// <summary>e_phnum; AT_PHNUM.</summary>
    public ushort ProgramHeaderCount { get; private set; }

    /// <summary>All program headers in file order.</summary>
    public IReadOnlyList<ElfProgramHeader> ProgramHeaders { get; private set; } = [];

    /// <summary>All section headers in file order; empty when the file has no section table.</summary>
    public IReadOnlyList<ElfSection> Sections { get; private set; } = [];

    /// <summary>PT_INTERP without its NUL: the dynamic loader this program asks for, or null.</summary>
    public string? Interpreter { get; private set; }

    /// <summary>ET_DYN (PIE or shared object): the loader chooses the load address.</summary>
    public bool IsPositionIndependent => Type == ElfType.Shared;

    /// <summary>The NT_GNU_BUILD_ID note's bytes, or null.</summary>
    public byte[]? BuildId { get; private set; }

    /// <summary>The file name in .gnu_debuglink (where the separate debug info lives), or null.</summary>
    public string? DebugLink { get; private set; }

    /// <summary>The CRC32 of the debug file recorded in .gnu_debuglink, or null.</summary>
    public uint? DebugLinkCrc { get; private set; }

    /// <summary>The whole file.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Lowest PT_LOAD virtual address rounded down to a page (unbiased).</summary>
    public ulong LowestLoadAddress => Loads().Min(p => p.VirtualAddress) & ~PageMask;

    /// <summary>End of the highest PT_LOAD (vaddr + memsz) rounded up to a page (unbiased).</summary>
    public ulong HighestLoadAddress => (Loads().Max(p => p.VirtualAddress + p.MemorySize) + PageMask) & ~PageMask;

    /// <summary>Reads and parses the file at <paramref name="path"/>; I/O errors propagate as thrown by <see cref="File"/>.</summary>
    public static ElfImage Open(string path) => Parse(path, File.ReadAllBytes(path));

    /// <summary>Parses <paramref name="bytes"/> (the array is kept, not copied) as the file at <paramref name="path"/>.</summary>
    public static ElfImage Parse(string path, byte[] bytes) => Parse(path, bytes, isDebugFile: false);

    /// <summary>
    /// Reads a separate debug file (objcopy --only-keep-debug, /usr/lib/debug/.build-id/...): its
    /// program headers describe the stripped file and have no data behind them (PT_INTERP has
    /// file size 0), so <see cref="Interpreter"/> is left null; sections, symbols and build-id
    /// are read as usual.
    /// </summary>
    public static ElfImage OpenDebugFile(string path) => Parse(path, File.ReadAllBytes(path), isDebugFile: true);

    private static ElfImage Parse(string path, byte[] bytes, bool isDebugFile)
    {
        var image = new ElfImage(path, bytes);
        ushort sectionCount = image.ReadHeader(out ulong sectionOffset, out ushort sectionEntrySize, out ushort namesIndex);
        image.ReadProgramHeaders();
        image.ReadSections(sectionOffset, sectionEntrySize, sectionCount, namesIndex);
        if (!isDebugFile) image.ReadInterpreter();
        image.ReadBuildId();
        image.ReadDebugLink();
        return image;
    }

    /// <summary>The first section called <paramref name="name"/>, or null.</summary>
    public ElfSection? FindSection(string name) => Sections.FirstOrDefault(s => s.Name == name);

    /// <summary>The file bytes of <paramref name="section"/>; empty for SHT_NOBITS.</summary>
    public ReadOnlySpan<byte> GetSectionData(ElfSection section) =>
        section.HasNoFileData ? [] : _bytes.AsSpan(checked((int)section.Offset), checked((int)section.Size));

    /// <summary>
    /// The symbols of .symtab, or of .dynsym when the file is stripped; empty when it has neither.
    /// The null symbol at index 0 is left out.
    /// </summary>
    public IReadOnlyList<ElfSymbol> ReadSymbols()
    {
        ElfSection? table = Sections.FirstOrDefault(s => s.Type == SHT_SYMTAB)
                            ?? Sections.FirstOrDefault(s => s.Type == SHT_DYNSYM);
        if (table == null || table.Link >= Sections.Count) return [];
        if (table.EntrySize != 0 && table.EntrySize != SymSize) return [];
        ElfSection strings = Sections[(int)table.Link];
        if (table.HasNoFileData || strings.HasNoFileData) return [];

        var symbols = new List<ElfSymbol>();
        ulong count = table.Size / SymSize;
        for (ulong i = 1; i < count; i++)
        {
            int o = (int)(table.Offset + i * SymSize);
            byte info = _bytes[o + 4];
            symbols.Add(new ElfSymbol(StringAt(strings, U32(o)), U64(o + 8), U64(o + 16),
                (ElfSymbolType)(info & 0xf), (ElfSymbolBinding)(info >> 4), U16(o + 6)));
        }
        return symbols;
    }

    private IEnumerable<ElfProgramHeader> Loads() => ProgramHeaders.Where(p => p.Type == ElfSegmentType.Load);

    /// <summary>Validates the ELF header and returns the section table's place, read later.</summary>
    private ushort ReadHeader(out ulong sectionOffset, out ushort sectionEntrySize, out ushort namesIndex)
    {
        ReadOnlySpan<byte> b = _bytes;
        ReadOnlySpan<byte> magic = [0x7f, (byte)'E', (byte)'L', (byte)'F'];
        if (b.Length == 0) throw new ElfFormatException("not an ELF executable (the file is empty)");
        if (b.Length < magic.Length && magic.StartsWith(b)) throw new ElfFormatException("truncated ELF file");
        if (!b.StartsWith(magic))
        {
            throw new ElfFormatException(b.StartsWith("#!"u8)
                ? "not an ELF executable (it is a #! script; run memcheck on its interpreter)"
                : "not an ELF executable (no ELF magic number)");
        }
        if (b.Length <= EI_DATA) throw new ElfFormatException("truncated ELF file (the ELF header is cut short)");
        if (b[EI_CLASS] == ELFCLASS32)
            throw new ElfFormatException("32-bit ELF is not supported; memcheck runs x86-64 programs");
        if (b[EI_CLASS] != ELFCLASS64) throw new ElfFormatException($"unknown ELF class {b[EI_CLASS]}");
        if (b[EI_DATA] == ELFDATA2MSB) throw new ElfFormatException("big-endian ELF is not supported; memcheck runs x86-64 programs");
        if (b[EI_DATA] != ELFDATA2LSB) throw new ElfFormatException($"unknown ELF data encoding {b[EI_DATA]}");
        if (b.Length < EhdrSize) throw new ElfFormatException("truncated ELF file (the ELF header is cut short)");

        ushort machine = U16(18);
        if (machine != EM_X86_64) throw new ElfFormatException($"ELF for machine {machine} is not x86-64");
        Type = (ElfType)U16(16);
        if (Type is not (ElfType.Executable or ElfType.Shared))
        {
            throw new ElfFormatException(Type switch
            {
                ElfType.Relocatable => "a relocatable object file (ET_REL), not an executable; link it first",
                ElfType.Core => "a core dump (ET_CORE), not an executable",
                _ => $"ELF type {(ushort)Type} is not an executable",
            });
        }

        Entry = U64(24);
        ProgramHeaderOffset = U64(32);
        sectionOffset = U64(40);
        ProgramHeaderEntrySize = U16(54);
        ProgramHeaderCount = U16(56);
        sectionEntrySize = U16(58);
        namesIndex = U16(62);
        if (ProgramHeaderEntrySize != PhdrSize)
            throw new ElfFormatException($"bad program header entry size {ProgramHeaderEntrySize} (ELF64 uses {PhdrSize})");
        return U16(60);
    }

    private void ReadProgramHeaders()
    {
        if (ProgramHeaderCount == 0) throw new ElfFormatException("no program headers, nothing to load");
        if (!InBounds(ProgramHeaderOffset, (ulong)ProgramHeaderCount * PhdrSize))
            throw new ElfFormatException("truncated ELF file (the program headers lie beyond the end of the file)");

        var headers = new ElfProgramHeader[ProgramHeaderCount];
        for (int i = 0; i < headers.Length; i++)
        {
            int o = (int)ProgramHeaderOffset + i * PhdrSize;
            var ph = new ElfProgramHeader((ElfSegmentType)U32(o), (ElfSegmentFlags)U32(o + 4), U64(o + 8), U64(o + 16),
                U64(o + 24), U64(o + 32), U64(o + 40), U64(o + 48));
            if (ph.FileSize > 0 && !InBounds(ph.Offset, ph.FileSize))
                throw new ElfFormatException($"truncated ELF file (segment {i} lies beyond the end of the file)");
            if (ph.Type == ElfSegmentType.Load)
            {
                // The kernel refuses these too (binfmt_elf: p_filesz > p_memsz, or beyond TASK_SIZE).
                if (ph.FileSize > ph.MemorySize)
                    throw new ElfFormatException($"bad loadable segment {i}: file size exceeds memory size");
                if (ph.VirtualAddress >= UserAddressLimit || ph.MemorySize > UserAddressLimit - ph.VirtualAddress)
                    throw new ElfFormatException($"bad loadable segment {i}: outside the user address space");
            }
            headers[i] = ph;
        }
        ProgramHeaders = headers;
        if (!headers.Any(p => p.Type == ElfSegmentType.Load)) throw new ElfFormatException("no loadable segments");
    }

    private void ReadSections(ulong offset, ushort entrySize, ushort count, ushort namesIndex)
    {
        // A stripped or sstrip'ed file may have no section table at all; that is fine for running it.
        if (offset == 0) return;
        if (entrySize != ShdrSize)
            throw new ElfFormatException($"bad section header entry size {entrySize} (ELF64 uses {ShdrSize})");
        if (!InBounds(offset, ShdrSize))
            throw new ElfFormatException("truncated ELF file (the section headers lie beyond the end of the file)");

        // Extended numbering: with 0xff00 or more sections the real count and .shstrtab index
        // live in section 0 (sh_size and sh_link).
        ulong total = count == 0 ? U64((int)offset + 32) : count;
        uint names = namesIndex == SHN_XINDEX ? U32((int)offset + 40) : namesIndex;
        if (total == 0) return;
        if (total > int.MaxValue / ShdrSize || !InBounds(offset, total * ShdrSize))
            throw new ElfFormatException("truncated ELF file (the section headers lie beyond the end of the file)");

        var raw = new ElfSection[total];
        for (int i = 0; i < raw.Length; i++)
        {
            int o = (int)offset + i * ShdrSize;
            // Named once the string table is known (it may come later in the table).
            raw[i] = new ElfSection("", U32(o + 4), U64(o + 8), U64(o + 16), U64(o + 24), U64(o + 32),
                U32(o + 40), U32(o + 44), U64(o + 48), U64(o + 56));
            if (!raw[i].HasNoFileData && !InBounds(raw[i].Offset, raw[i].Size))
                throw new ElfFormatException($"truncated ELF file (section {i} lies beyond the end of the file)");
        }

        ElfSection? nameTable = names != SHN_UNDEF && names < raw.Length && !raw[names].HasNoFileData ? raw[names] : null;
        var sections = new ElfSection[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            uint nameOffset = U32((int)offset + i * ShdrSize);
            sections[i] = raw[i] with { Name = nameTable == null ? "" : StringAt(nameTable, nameOffset) };
        }
        Sections = sections;
    }

    private void ReadInterpreter()
    {
        foreach (ElfProgramHeader ph in ProgramHeaders)
        {
            if (ph.Type != ElfSegmentType.Interp) continue;
            // As in binfmt_elf: the first PT_INTERP counts, and it must be a NUL-terminated path.
            ReadOnlySpan<byte> path = ph.FileSize == 0 ? [] : _bytes.AsSpan((int)ph.Offset, (int)ph.FileSize);
            if (path.Length < 2 || path[^1] != 0 || path[..^1].Contains((byte)0))
                throw new ElfFormatException("bad PT_INTERP segment (not a NUL-terminated path)");
            Interpreter = Encoding.UTF8.GetString(path[..^1]);
            return;
        }
    }

    private void ReadBuildId()
    {
        var areas = ProgramHeaders.Where(p => p.Type == ElfSegmentType.Note).Select(p => (p.Offset, p.FileSize, p.Align))
            .Concat(Sections.Where(s => s.Type == SHT_NOTE).Select(s => (s.Offset, s.Size, s.Alignment)));
        foreach ((ulong start, ulong size, ulong align) in areas)
        {
            byte[]? id = FindGnuNote(start, size, align, NT_GNU_BUILD_ID);
            if (id != null)
            {
                BuildId = id;
                return;
            }
        }
    }

    /// <summary>Walks the notes in [start, start+size) (already bounds-checked) for an owner-"GNU" note of <paramref name="type"/>.</summary>
    private byte[]? FindGnuNote(ulong start, ulong size, ulong align, uint type)
    {
        // Notes are 4-byte aligned, except 8-byte aligned areas such as .note.gnu.property.
        ulong pad = align == 8 ? 7UL : 3UL;
        ulong end = start + size;
        ulong o = start;
        while (end - o >= NhdrSize)
        {
            ulong nameSize = U32((int)o), descSize = U32((int)o + 4);
            uint noteType = U32((int)o + 8);
            ulong name = o + NhdrSize;
            if (nameSize > end - name) return null;
            ulong desc = (name + nameSize + pad) & ~pad;
            if (desc > end || descSize > end - desc) return null;
            ReadOnlySpan<byte> owner = _bytes.AsSpan((int)name, (int)nameSize);
            if (noteType == type && owner.SequenceEqual("GNU\0"u8))
                return _bytes.AsSpan((int)desc, (int)descSize).ToArray();
            ulong next = (desc + descSize + pad) & ~pad;
            if (next <= o) return null;
            o = Math.Min(next, end);
        }
        return null;
    }

    private void ReadDebugLink()
    {
        // .gnu_debuglink: the file name, NUL, padding to 4, then the debug file's CRC32.
        ElfSection? link = FindSection(".gnu_debuglink");
        if (link == null || link.HasNoFileData) return;
        ReadOnlySpan<byte> data = GetSectionData(link);
        int nul = data.IndexOf((byte)0);
        if (nul <= 0) return;
        DebugLink = Encoding.UTF8.GetString(data[..nul]);
        int crcAt = (nul + 1 + 3) & ~3;
        if (crcAt + 4 <= data.Length) DebugLinkCrc = BinaryPrimitives.ReadUInt32LittleEndian(data[crcAt..]);
    }

    /// <summary>The NUL-terminated string at <paramref name="offset"/> inside <paramref name="table"/>; "" when out of range.</summary>
    private string StringAt(ElfSection table, uint offset)
    {
        if (offset >= table.Size) return "";
        ReadOnlySpan<byte> rest = _bytes.AsSpan((int)(table.Offset + offset), (int)(table.Size - offset));
        int nul = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? rest : rest[..nul]);
    }

    private bool InBounds(ulong offset, ulong length) =>
        offset <= (ulong)_bytes.Length && length <= (ulong)_bytes.Length - offset;

    private ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(o));

    private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(o));

    private ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(o));
}
