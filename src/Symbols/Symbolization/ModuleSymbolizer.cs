using Checker.Symbols.DebugFiles;
using Checker.Symbols.Demangling;
using Checker.Symbols.Dwarf;
using Checker.Symbols.Elf;

namespace Checker.Symbols.Symbolization;

/// <summary>
/// Turns code addresses of one ELF file, loaded at a load bias, into <see cref="SymbolizedFrame"/>s.
///
/// Sources, each read on first need (an error report may never come, and libc's DWARF is large):
/// the file's own DWARF when it was built with -g, else the separate debug file
/// (<see cref="DebugFileLocator"/>: build-id, then .gnu_debuglink); and the function symbols of
/// .symtab (or .dynsym when stripped, plus the debug file's .symtab), which name what DWARF does
/// not cover (crt code, assembly, stripped files) as symbol+offset. Results are cached per address.
/// Thread-safe: calls are serialised on the module.
/// </summary>
public sealed class ModuleSymbolizer : IDisposable
{
    private readonly object _lock = new();
    private readonly DebugFileLocator _locator;
    private readonly Dictionary<ulong, IReadOnlyList<SymbolizedFrame>> _cache = [];
    private ElfImage? _image;
    private bool _debugInfoRead, _symbolSourcesRead, _debugImageLocated;
    private DwarfFile? _dwarf;
    private ElfImage? _debugImage;
    private string? _debugFile;
    // The symbol tables: scanned in place for the first lookups, read into a sorted table after 32
    // lookups or once the scans have read 256K entries, whichever comes first: libc's debug .symtab
    // (10K entries) is scanned for up to 26 lookups, cc1plus's .dynsym (31K) for 8, where its 32
    // scans had taken ~25 ms of its first reports (a sorted table costs about four scans to build).
    private const int ScannedLookups = 32;
    private const long ScannedEntries = 256 * 1024;
    private FunctionSymbolTable? _symbols;
    private ElfImage? _debugSymbols;
    private int _symbolLookups;
    private long _scannedEntries;
    private bool _disposed;

    /// <summary>A module read from <paramref name="path"/> (when first needed).</summary>
    /// <param name="path">The ELF file as loaded (executable or shared object).</param>
    /// <param name="loadBias">Run-time address minus link-time address (0 for a non-PIE executable).</param>
    /// <param name="locator">Where separate debug files are looked for (default: /usr/lib/debug).</param>
    public ModuleSymbolizer(string path, ulong loadBias = 0, DebugFileLocator? locator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        LoadBias = loadBias;
        _locator = locator ?? new DebugFileLocator();
    }

    /// <summary>A module already parsed (the loader's image of it).</summary>
    public ModuleSymbolizer(ElfImage image, ulong loadBias = 0, DebugFileLocator? locator = null)
        : this(image.Path, loadBias, locator)
    {
        _image = image;
    }

    /// <summary>The ELF file.</summary>
    public string Path { get; }

    /// <summary>Run-time address minus link-time address.</summary>
    public ulong LoadBias { get; }

    /// <summary>The lowest run-time address of the module (its first PT_LOAD, page-aligned): the origin of module+offset.</summary>
    public ulong Start => LoadBias + Image.LowestLoadAddress;

    /// <summary>The end of the module's highest PT_LOAD at run time (page-aligned, exclusive).</summary>
    public ulong End => LoadBias + Image.HighestLoadAddress;

    /// <summary>The file whose DWARF is used (the module itself or its separate debug file); null when there is none.</summary>
    public string? DebugInfoPath
    {
        get
        {
            lock (_lock)
            {
                EnsureDebugInfo();
                return _dwarf?.Path;
            }
        }
    }

    /// <summary>The separate debug file found for the module, or null (none installed, or the module carries its own DWARF).</summary>
    public string? SeparateDebugFile
    {
        get
        {
            lock (_lock)
            {
                EnsureDebugInfo();
                return _debugFile;
            }
        }
    }

    private ElfImage Image
    {
        get
        {
            lock (_lock)
            {
                return _image ??= ElfImage.Open(Path);
            }
        }
    }

    /// <summary>True when <paramref name="address"/> lies in [<see cref="Start"/>, <see cref="End"/>).</summary>
    public bool Contains(ulong address) => address >= Start && address < End;

    /// <summary>
    /// The frames at run-time code address <paramref name="address"/>: innermost first when the
    /// code was inlined, otherwise one frame. Never empty: with no DWARF and no symbol the frame
    /// names only the module and offset.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The address is outside the module.</exception>
    public IReadOnlyList<SymbolizedFrame> Symbolize(ulong address)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!Contains(address))
                throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x} is outside {Path} [0x{Start:x}, 0x{End:x})");
            if (_cache.TryGetValue(address, out IReadOnlyList<SymbolizedFrame>? cached)) return cached;

            EnsureDebugInfo();
            IReadOnlyList<SymbolizedFrame> frames = Lookup(address);
            _cache[address] = frames;
            return frames;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _dwarf?.Dispose();
            _dwarf = null;
        }
    }

    /// <summary>
    /// The physical frame at <paramref name="address"/> from the symbol tables alone (the debug
    /// file's .symtab included, its DWARF not read): no source line, no inlined frames. For matching
    /// what needs only function names (memcheck's default suppressions), where DWARF would cost a
    /// large library's unit headers (libc: ~6 MB read, ~13 MB of peak RSS) for a report never shown.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The address is outside the module.</exception>
    public SymbolizedFrame SymbolizeBySymbols(ulong address)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!Contains(address))
                throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x} is outside {Path} [0x{Start:x}, 0x{End:x})");
            EnsureSymbolSources();
            return PhysicalFrame(address);
        }
    }

    private SymbolizedFrame PhysicalFrame(ulong address)
    {
        (ElfSymbol Symbol, ulong Offset, string ValgrindName)? symbol = FindSymbol(address - LoadBias);
        string? symbolName = symbol is { } s ? Demangler.Demangle(s.Symbol.Name) : null;
        return new SymbolizedFrame(address, Path, address - Start, symbolName, null, null, false, symbolName == null ? null : symbol?.Offset,
            MangledFunction: symbol?.ValgrindName);
    }

    private IReadOnlyList<SymbolizedFrame> Lookup(ulong address)
    {
        ulong linkAddress = address - LoadBias;
        IReadOnlyList<DwarfFrame> source = _dwarf?.Frames(linkAddress) ?? [];
        if (source.Count == 0) return [PhysicalFrame(address)];
        ulong moduleOffset = address - Start;
        (ElfSymbol Symbol, ulong Offset, string ValgrindName)? symbol = FindSymbol(linkAddress);
        string? symbolName = symbol is { } s ? Demangler.Demangle(s.Symbol.Name) : null;
        // Valgrind names the physical frame from the symbol table, as stored (mangled).
        string? valgrindName = symbol?.ValgrindName;
        ulong? symbolOffset = symbol?.Offset;

        var frames = new SymbolizedFrame[source.Count];
        for (int i = 0; i < frames.Length; i++)
        {
            DwarfFrame f = source[i];
            bool outermost = i == frames.Length - 1 && !f.Inlined;
            // DWARF without a function DIE (assembly units) still has lines: the symbol names it.
            string? function = f.Function ?? (outermost ? symbolName : null);
            // A C++ function DWARF names without a linkage name (internal linkage: ns::f) has a
            // mangled symbol all the same: its signature makes the frame read as addr2line -C's,
            // ns::f(int*), alongside methods named from their linkage names.
            if (outermost && f.Function is string plain && symbol is { } physical
                && Demangler.IsMangled(physical.Symbol.Name) && symbolName!.StartsWith(plain + "(", StringComparison.Ordinal))
                function = symbolName;
            frames[i] = new SymbolizedFrame(address, Path, moduleOffset, function, f.File, f.Line, f.Inlined,
                outermost ? symbolOffset : null, MangledFunction: f.Inlined ? f.PlainName : outermost ? valgrindName : null);
        }
        return frames;
    }

    /// <summary>Finds the symbol tables (the separate debug file's too when the module has no DWARF of its own), once.</summary>
    private void EnsureSymbolSources()
    {
        if (_symbolSourcesRead) return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!HasOwnDwarf(Image)) LocateDebugImage();
        _symbolSourcesRead = true;
    }

    private void LocateDebugImage()
    {
        if (_debugImageLocated) return;
        _debugImageLocated = true;
        _debugImage = _locator.FindImage(Image);
        if (_debugImage == null) return;
        _debugFile = _debugImage.Path;
        // A stripped file keeps only .dynsym (exports); its debug file has the full .symtab.
        if (!Image.Sections.Any(s => s.Type == ElfConstants.SHT_SYMTAB))
        {
            _debugSymbols = _debugImage;
            _symbols = null;   // a table read before (own DWARF that then failed to open) lacked them
        }
    }

    /// <summary>Opens the DWARF (the module's own, else its separate debug file's) and finds the symbol tables, once.</summary>
    private void EnsureDebugInfo()
    {
        if (_debugInfoRead) return;
        EnsureSymbolSources();
        ElfImage image = Image;
        if (HasOwnDwarf(image)) _dwarf = TryOpenDwarf(DebugFiles.DecompressedDebugFiles.PathFor(image));
        if (_dwarf == null)
        {
            LocateDebugImage();
            if (_debugImage != null) _dwarf = TryOpenDwarf(DebugFiles.DecompressedDebugFiles.PathFor(_debugImage));
        }
        _debugInfoRead = true;
    }

    /// <summary>Whether this module's DWARF has been opened (for --stats: each is read on first need only).</summary>
    public bool DebugInfoOpened
    {
        get
        {
            lock (_lock) return _dwarf != null;
        }
    }

    /// <summary>The function symbol containing <paramref name="linkAddress"/>: the debug file's symbols first, then the module's.</summary>
    private (ElfSymbol Symbol, ulong Offset, string ValgrindName)? FindSymbol(ulong linkAddress)
    {
        if (_symbols == null && (++_symbolLookups > ScannedLookups || _scannedEntries >= ScannedEntries))
        {
            IEnumerable<ElfSymbol> symbols = Image.ReadSymbols();
            if (_debugSymbols != null) symbols = _debugSymbols.ReadSymbols().Concat(symbols);
            _symbols = new FunctionSymbolTable(symbols);
        }
        if (_symbols != null)
            return _symbols.Find(linkAddress) is { } found ? (found.Symbol, found.Offset, _symbols.ValgrindName(found.Symbol)) : null;
        // From the files, not read into memory: a few lookups (a suppressed leak's stack at exit)
        // kept libc's debug .symtab and .strtab for the rest of the run.
        using ElfSymbolStream? debugStream = _debugSymbols != null ? _debugSymbols.OpenSymbolStream() : ElfSymbolStream.Empty;
        using ElfSymbolStream? stream = Image.OpenSymbolStream();
        if (debugStream != null && stream != null)
        {
            _scannedEntries += debugStream.Count + stream.Count;
            return FunctionSymbolTable.Scan(debugStream, stream, linkAddress);
        }
        ElfSymbolTable debugTable = _debugSymbols != null ? _debugSymbols.ReadSymbolTable() : default, table = Image.ReadSymbolTable();
        _scannedEntries += debugTable.Count + table.Count;
        return FunctionSymbolTable.Scan(debugTable, table, linkAddress);
    }

    private static bool HasOwnDwarf(ElfImage image) =>
        image.Sections.Any(s => s.Name is ".debug_info" && !s.HasNoFileData && s.Size > 0);

    private static DwarfFile? TryOpenDwarf(string path)
    {
        try
        {
            return DwarfFile.Open(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
