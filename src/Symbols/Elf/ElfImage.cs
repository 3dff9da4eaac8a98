using System.Buffers.Binary;
using System.Text;
using Checker.Symbols.Native;
using static Checker.Symbols.Elf.ElfConstants;

namespace Checker.Symbols.Elf;

/// <summary>
/// An ELF64 x86-64 executable or shared object read into memory: header, program headers,
/// sections, symbols, build-id and debuglink.
/// <para>
/// Strict only where Linux's binfmt_elf is: the ELF header (magic, e_type, e_machine; the identity
/// bytes EI_CLASS/EI_DATA/EI_VERSION are not checked by the kernel and not here either) and the
/// program header table (entry size 56, at most 64 KiB, inside the file). Each problem there is one
/// <see cref="ElfFormatException"/> line. The kernel never reads sections, so everything else
/// (section headers, notes, symbols, debuglink, PT_INTERP) is best-effort: damage makes it absent,
/// never an error. Whether the image can be mapped is the loader's question
/// (Checker.Engine.Loading.BinfmtRules). Everything is bounds-checked against the bytes read.
/// </para>
/// </summary>
public sealed class ElfImage
{
    /// <summary>
    /// Files are read up to this many bytes. Loading needs only the first pages (header,
    /// program headers, PT_INTERP); symbol tables past the limit of a larger file are not read.
    /// </summary>
    public const long ReadLimit = 1L << 30;

    // load_elf_phdrs: e_phnum * sizeof(Elf64_Phdr) must be 1..65536 bytes.
    private const int MaxProgramHeaderBytes = 65536;

    // PATH_MAX: binfmt_elf refuses a longer PT_INTERP.
    private const ulong MaxInterpreterSize = 4096;

    // More sections than any real executable has; a damaged count beyond it is ignored.
    private const ulong MaxSections = 1 << 20;

    private const ulong PageMask = 0xfff;

    private readonly ElfFileContent _content;

    private ElfImage(string path, ElfFileContent content, long fileSize)
    {
        Path = path;
        _content = content;
        FileSize = (ulong)fileSize;
    }

    /// <summary>The path the image was read from (as given).</summary>
    public string Path { get; }

    /// <summary>The file's size (the bytes that may be read are at most <see cref="ReadLimit"/>).</summary>
    public ulong FileSize { get; }

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

    /// <summary>All section headers in file order; empty when the file has no usable section table.</summary>
    public IReadOnlyList<ElfSection> Sections { get; private set; } = [];

    /// <summary>
    /// The dynamic loader this program asks for: the first PT_INTERP up to its first NUL, when the
    /// segment is one binfmt_elf accepts (2 to 4096 bytes, inside the file, its last byte NUL);
    /// null without PT_INTERP or when <see cref="InterpreterError"/> says why it is unusable.
    /// </summary>
    public string? Interpreter { get; private set; }

    /// <summary>Why the first PT_INTERP is refused (the kernel's ENOEXEC/EIO cases), or null.</summary>
    public string? InterpreterError { get; private set; }

    /// <summary>ET_DYN (PIE or shared object): the loader chooses the load address.</summary>
    public bool IsPositionIndependent => Type == ElfType.Shared;

    /// <summary>The NT_GNU_BUILD_ID note's bytes, or null.</summary>
    public byte[]? BuildId { get; private set; }

    /// <summary>The file name in .gnu_debuglink (where the separate debug info lives), or null.</summary>
    public string? DebugLink { get; private set; }

    /// <summary>The CRC32 of the debug file recorded in .gnu_debuglink, or null.</summary>
    public uint? DebugLinkCrc { get; private set; }

    /// <summary>Lowest PT_LOAD virtual address rounded down to a page (unbiased).</summary>
    public ulong LowestLoadAddress => Loads().Select(p => p.VirtualAddress).DefaultIfEmpty().Min() & ~PageMask;

    /// <summary>End of the highest PT_LOAD (vaddr + memsz, saturated) rounded up to a page (unbiased).</summary>
    public ulong HighestLoadAddress
    {
        get
        {
            ulong end = Loads().Select(p => p.MemorySize > ulong.MaxValue - p.VirtualAddress ? ulong.MaxValue : p.VirtualAddress + p.MemorySize)
                .DefaultIfEmpty().Max();
            return end > ulong.MaxValue - PageMask ? ~PageMask : (end + PageMask) & ~PageMask;
        }
    }

    /// <summary>
    /// Reads and parses the file at <paramref name="path"/>: only a regular file (a FIFO or device is
    /// refused, never waited on or read without end), at most <see cref="ReadLimit"/> bytes. I/O
    /// problems are thrown as by <see cref="RegularFile.Open"/>, format problems as <see cref="ElfFormatException"/>.
    /// </summary>
    public static ElfImage Open(string path)
    {
        using RegularFile file = RegularFile.Open(path);
        ElfFileContent content = ElfFileContent.FromFile(path, file, ReadLimit);
        try { return Parse(path, content, file.Length); }
        finally { content.Detach(); }
    }

    /// <summary>Parses <paramref name="bytes"/> (the array is kept, not copied) as the file at <paramref name="path"/>.</summary>
    public static ElfImage Parse(string path, byte[] bytes) => Parse(path, ElfFileContent.FromArray(bytes), bytes.Length);

    /// <summary>
    /// Reads a separate debug file (objcopy --only-keep-debug, /usr/lib/debug/.build-id/...): its
    /// program headers describe the stripped file and have no data behind them; sections, symbols
    /// and build-id are read as usual.
    /// </summary>
    public static ElfImage OpenDebugFile(string path) => Open(path);

    private static ElfImage Parse(string path, ElfFileContent content, long fileSize)
    {
        var image = new ElfImage(path, content, Math.Max(fileSize, (long)content.Length));
        ElfHeaderFields header = image.ReadHeader();
        image.ReadProgramHeaders(header);
        image.ReadSections(header);
        image.ReadInterpreter();
        image.ReadBuildId();
        image.ReadDebugLink();
        return image;
    }

    /// <summary>The first section called <paramref name="name"/>, or null.</summary>
    public ElfSection? FindSection(string name) => Sections.FirstOrDefault(s => s.Name == name);

    /// <summary>The file bytes of <paramref name="section"/>; empty for SHT_NOBITS or when they lie beyond the bytes read.</summary>
    public ReadOnlySpan<byte> GetSectionData(ElfSection section) =>
        section.HasNoFileData ? [] : Slice(section.Offset, section.Size);

    /// <summary>The file bytes of a segment (p_offset, p_filesz); empty when they lie beyond the bytes read.</summary>
    public ReadOnlySpan<byte> GetSegmentData(ElfProgramHeader segment) => Slice(segment.Offset, segment.FileSize);

    /// <summary>
    /// The symbols of .symtab, or of .dynsym when the file is stripped; empty when it has neither
    /// (or they are damaged). The null symbol at index 0 is left out.
    /// </summary>
    public IReadOnlyList<ElfSymbol> ReadSymbols()
    {
        ElfSymbolTable table = ReadSymbolTable();
        var symbols = new List<ElfSymbol>(Math.Max(table.Count - 1, 0));
        for (int i = 1; i < table.Count; i++) symbols.Add(table.ToSymbol(table[i]));
        return symbols;
    }

    /// <summary>
    /// The same symbols read in place (<see cref="ElfSymbolTable"/>; index 0 is the null symbol):
    /// for scans that look for a few names.
    /// </summary>
    public ElfSymbolTable ReadSymbolTable()
    {
        if (SymbolSections() is not var (table, names)) return default;
        ReadOnlySpan<byte> entries = GetSectionData(table);
        ReadOnlySpan<byte> strings = GetSectionData(names);
        if (entries.IsEmpty || strings.IsEmpty) return default;
        return new ElfSymbolTable(entries, strings);
    }

    /// <summary>
    /// The same symbols read from the file as a scan goes (<see cref="ElfSymbolStream"/>: nothing
    /// kept in memory after it is disposed); null when the image's bytes came as an array, the file
    /// is gone or changed, or its table lies beyond the bytes that may be read (then
    /// <see cref="ReadSymbolTable"/> answers, as it would).
    /// </summary>
    public ElfSymbolStream? OpenSymbolStream()
    {
        if (SymbolSections() is not var (table, names)) return ElfSymbolStream.Empty;
        if (table.HasNoFileData || names.HasNoFileData || !InBounds(table.Offset, table.Size) || !InBounds(names.Offset, names.Size)) return ElfSymbolStream.Empty;
        if (table.Size / SymSize > int.MaxValue) return null;
        RegularFile? file = _content.OpenForReading(out bool owned);
        if (file == null) return null;
        return new ElfSymbolStream(file, owned, table.Offset, (int)(table.Size / SymSize), names.Offset, names.Size);
    }

    // .symtab, else .dynsym, and its string table; null when neither is usable.
    private (ElfSection Table, ElfSection Names)? SymbolSections()
    {
        ElfSection? table = Sections.FirstOrDefault(s => s.Type == SHT_SYMTAB)
                            ?? Sections.FirstOrDefault(s => s.Type == SHT_DYNSYM);
        if (table == null || table.Link >= Sections.Count) return null;
        if (table.EntrySize != 0 && table.EntrySize != SymSize) return null;
        return (table, Sections[(int)table.Link]);
    }

    private IEnumerable<ElfProgramHeader> Loads() => ProgramHeaders.Where(p => p.Type == ElfSegmentType.Load);

    private readonly record struct ElfHeaderFields(ulong SectionOffset, ushort SectionEntrySize, ushort SectionCount, ushort NamesIndex);

    /// <summary>Validates the ELF header as binfmt_elf does (magic, e_type, e_machine) and reads its fields.</summary>
    private ElfHeaderFields ReadHeader()
    {
        ReadOnlySpan<byte> b = Slice(0, Math.Min(_content.Length, EhdrSize));
        ReadOnlySpan<byte> magic = [0x7f, (byte)'E', (byte)'L', (byte)'F'];
        if (b.Length == 0) throw new ElfFormatException("not an ELF executable (the file is empty)");
        if (b.Length < magic.Length && magic.StartsWith(b)) throw new ElfFormatException("truncated ELF file");
        if (!b.StartsWith(magic))
        {
            throw new ElfFormatException(b.StartsWith("#!"u8)
                ? "not an ELF executable (it is a #! script; run memcheck on its interpreter)"
                : "not an ELF executable (no ELF magic number)");
        }
        if (b.Length < EhdrSize) throw new ElfFormatException("truncated ELF file (the ELF header is cut short)");

        ushort machine = U16(b, 18);
        if (machine != EM_X86_64)
        {
            // The kernel checks e_machine only; the class and byte order just make the message clearer.
            if (b[EI_CLASS] == ELFCLASS32) throw new ElfFormatException("32-bit ELF is not supported; memcheck runs x86-64 programs");
            if (b[EI_DATA] == ELFDATA2MSB) throw new ElfFormatException("big-endian ELF is not supported; memcheck runs x86-64 programs");
            throw new ElfFormatException($"ELF for machine {machine} is not x86-64");
        }
        Type = (ElfType)U16(b, 16);
        if (Type is not (ElfType.Executable or ElfType.Shared))
        {
            throw new ElfFormatException(Type switch
            {
                ElfType.Relocatable => "a relocatable object file (ET_REL), not an executable; link it first",
                ElfType.Core => "a core dump (ET_CORE), not an executable",
                _ => $"ELF type {(ushort)Type} is not an executable",
            });
        }

        Entry = U64(b, 24);
        ProgramHeaderOffset = U64(b, 32);
        ProgramHeaderEntrySize = U16(b, 54);
        ProgramHeaderCount = U16(b, 56);
        return new ElfHeaderFields(U64(b, 40), U16(b, 58), U16(b, 60), U16(b, 62));
    }

    private void ReadProgramHeaders(in ElfHeaderFields header)
    {
        if (ProgramHeaderEntrySize != PhdrSize)
        {
            // An x32 (ELFCLASS32, EM_X86_64) file has 32-byte entries: say what it is.
            throw new ElfFormatException(Slice(0, EhdrSize)[EI_CLASS] == ELFCLASS32
                ? "32-bit ELF (x32) is not supported; memcheck runs x86-64 programs"
                : $"bad program header entry size {ProgramHeaderEntrySize} (ELF64 uses {PhdrSize})");
        }
        if (ProgramHeaderCount == 0) throw new ElfFormatException("no program headers, nothing to load");
        if (ProgramHeaderCount * PhdrSize > MaxProgramHeaderBytes)
            throw new ElfFormatException($"too many program headers ({ProgramHeaderCount}; Linux reads at most {MaxProgramHeaderBytes / PhdrSize})");
        if (!InBounds(ProgramHeaderOffset, (ulong)ProgramHeaderCount * PhdrSize))
            throw new ElfFormatException("truncated ELF file (the program headers lie beyond the end of the file)");

        ReadOnlySpan<byte> table = Slice(ProgramHeaderOffset, (ulong)ProgramHeaderCount * PhdrSize);
        if (table.IsEmpty) throw new ElfFormatException("truncated ELF file (the program headers cannot be read)");
        var headers = new ElfProgramHeader[ProgramHeaderCount];
        for (int i = 0; i < headers.Length; i++)
        {
            ReadOnlySpan<byte> h = table.Slice(i * PhdrSize, PhdrSize);
            headers[i] = new ElfProgramHeader((ElfSegmentType)U32(h, 0), (ElfSegmentFlags)U32(h, 4), U64(h, 8), U64(h, 16),
                U64(h, 24), U64(h, 32), U64(h, 40), U64(h, 48));
        }
        ProgramHeaders = headers;
    }

    /// <summary>Best-effort: a missing, cut or damaged section table leaves <see cref="Sections"/> empty.</summary>
    private void ReadSections(in ElfHeaderFields header)
    {
        ulong offset = header.SectionOffset;
        if (offset == 0 || header.SectionEntrySize != ShdrSize || !InBounds(offset, ShdrSize)) return;

        // Extended numbering: with 0xff00 or more sections the real count and .shstrtab index
        // live in section 0 (sh_size and sh_link).
        ReadOnlySpan<byte> first = Slice(offset, ShdrSize);
        if (first.IsEmpty) return;
        ulong total = header.SectionCount == 0 ? U64(first, 32) : header.SectionCount;
        uint names = header.NamesIndex == SHN_XINDEX ? U32(first, 40) : header.NamesIndex;
        if (total == 0 || total > MaxSections || !InBounds(offset, total * ShdrSize)) return;
        ReadOnlySpan<byte> table = Slice(offset, total * ShdrSize);
        if (table.IsEmpty) return;

        var raw = new ElfSection[total];
        for (int i = 0; i < raw.Length; i++)
        {
            ReadOnlySpan<byte> h = table.Slice(i * ShdrSize, ShdrSize);
            // Named once the string table is known (it may come later in the table).
            raw[i] = new ElfSection("", U32(h, 4), U64(h, 8), U64(h, 16), U64(h, 24), U64(h, 32),
                U32(h, 40), U32(h, 44), U64(h, 48), U64(h, 56));
        }

        ElfSection? nameTable = names != SHN_UNDEF && names < raw.Length ? raw[names] : null;
        var sections = new ElfSection[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            uint nameOffset = U32(table, i * ShdrSize);
            sections[i] = raw[i] with { Name = nameTable == null ? "" : StringAt(nameTable, nameOffset) };
        }
        Sections = sections;
    }

    /// <summary>The first PT_INTERP, judged as load_elf_binary does (the rest are never looked at).</summary>
    private void ReadInterpreter()
    {
        foreach (ElfProgramHeader ph in ProgramHeaders)
        {
            if (ph.Type != ElfSegmentType.Interp) continue;
            if (ph.FileSize < 2 || ph.FileSize > MaxInterpreterSize)
            {
                InterpreterError = $"bad PT_INTERP segment ({ph.FileSize} bytes; Linux takes 2 to {MaxInterpreterSize})";
                return;
            }
            if (!InBounds(ph.Offset, ph.FileSize))
            {
                InterpreterError = "truncated ELF file (the PT_INTERP path lies beyond the end of the file)";
                return;
            }
            ReadOnlySpan<byte> path = GetSegmentData(ph);
            if (path[^1] != 0)
            {
                InterpreterError = "bad PT_INTERP segment (the path is not NUL-terminated)";
                return;
            }
            // The path is a C string: what follows its first NUL (padding) does not count.
            Interpreter = Encoding.UTF8.GetString(path[..path.IndexOf((byte)0)]);
            return;
        }
    }

    private void ReadBuildId()
    {
        var areas = ProgramHeaders.Where(p => p.Type == ElfSegmentType.Note).Select(p => (p.Offset, p.FileSize, p.Align))
            .Concat(Sections.Where(s => s.Type == SHT_NOTE).Select(s => (s.Offset, s.Size, s.Alignment)));
        foreach ((ulong start, ulong size, ulong align) in areas)
        {
            byte[]? id = FindGnuNote(Slice(start, size), align, NT_GNU_BUILD_ID);
            if (id != null)
            {
                BuildId = id;
                return;
            }
        }
    }

    /// <summary>Walks the notes in <paramref name="area"/> for an owner-"GNU" note of <paramref name="type"/>.</summary>
    private static byte[]? FindGnuNote(ReadOnlySpan<byte> area, ulong align, uint type)
    {
        // Notes are 4-byte aligned, except 8-byte aligned areas such as .note.gnu.property.
        int pad = align == 8 ? 7 : 3;
        int o = 0;
        while (area.Length - o >= NhdrSize)
        {
            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(area[o..]);
            uint descSize = BinaryPrimitives.ReadUInt32LittleEndian(area[(o + 4)..]);
            uint noteType = BinaryPrimitives.ReadUInt32LittleEndian(area[(o + 8)..]);
            int name = o + NhdrSize;
            if (nameSize > (uint)(area.Length - name)) return null;
            int desc = (name + (int)nameSize + pad) & ~pad;
            if (desc > area.Length || descSize > (uint)(area.Length - desc)) return null;
            if (noteType == type && area.Slice(name, (int)nameSize).SequenceEqual("GNU\0"u8))
                return area.Slice(desc, (int)descSize).ToArray();
            int next = (desc + (int)descSize + pad) & ~pad;
            if (next <= o) return null;
            o = Math.Min(next, area.Length);
        }
        return null;
    }

    private void ReadDebugLink()
    {
        // .gnu_debuglink: the file name, NUL, padding to 4, then the debug file's CRC32.
        ElfSection? link = FindSection(".gnu_debuglink");
        if (link == null) return;
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
        ReadOnlySpan<byte> data = GetSectionData(table);
        if (offset >= (uint)data.Length) return "";
        ReadOnlySpan<byte> rest = data[(int)offset..];
        int nul = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? rest : rest[..nul]);
    }

    private ReadOnlySpan<byte> Slice(ulong offset, ulong length) =>
        InBounds(offset, length) ? _content.Slice(offset, length) : [];

    private bool InBounds(ulong offset, ulong length) =>
        offset <= _content.Length && length <= _content.Length - offset;

    private static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);

    private static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);

    private static ulong U64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);
}
