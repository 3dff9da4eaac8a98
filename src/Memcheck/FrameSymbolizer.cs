using Checker.Engine.Memory;
using Checker.Reports;
using Checker.Symbols.Symbolization;

namespace Checker.Memcheck;

/// <summary>
/// Turns raw pcs into source frames, one symbolizer per module (opened lazily, kept for the run).
/// Return addresses are looked up at pc-1, inside the call, so the line is the call's. The common
/// path of every report's frames (errors, their blocks' stacks, crashes): a pc in memcheck's string
/// replacements becomes the libc routine it replaces (<see cref="ReplacementFrames"/>).
/// </summary>
public sealed class FrameSymbolizer : IDisposable
{
    // By path and load bias: a library dlclose'd and loaded again elsewhere (its old range taken
    // meanwhile) is the same file at another bias; keyed by path alone, its second load's frames
    // were looked up at the first load's bias and came out as bare addresses.
    private readonly Dictionary<(string Path, ulong LoadBias), ModuleSymbolizer?> _modules = new();
    // A mapping's load bias reads the file's program headers: once per mapping.
    private readonly Dictionary<(string Path, ulong MappingStart, ulong MappingOffset), ulong> _biases = new();

    private ulong BiasOf(ModuleLocation module)
    {
        var key = (module.Path, module.MappingStart, module.MappingOffset);
        if (!_biases.TryGetValue(key, out ulong bias)) _biases[key] = bias = module.LoadBias;
        return bias;
    }
    private readonly Dictionary<string, ReplacementFrames?> _replacements = new();

    // Each lookup's frames, kept with the module they came from: the stacks of different errors
    // share their callers' pcs, and finding a pc's module reads /proc/self/maps (cc1plus: 597
    // errors of 12 frames each). Used again only while the guest's module map (in memory, kept
    // with mmap and munmap) still has that module there: a library unloaded and another mapped
    // in its place is looked up afresh.
    private readonly Dictionary<ulong, (IReadOnlyList<SymbolizedFrame> Frames, ulong LoadBias, string Path)> _known = new();
    private readonly Func<ulong, (string Path, ulong LoadBias)?>? _moduleAt;
    private readonly Func<ulong, (string Path, ulong LoadBias)?>? _unloadedAt;

    // The file mappings of /proc/self/maps as last read, used again while the guest's module map has
    // not changed since (a pc outside them reads again): each new pc read and parsed the whole file
    // (cc1plus: 0.4% of its samples, its first report's ~2,000 distinct pcs).
    private readonly Func<long>? _mappingsGeneration;
    private FileMapping[]? _mappings;
    private long _mappingsReadAt;

    /// <param name="moduleAt">The guest's module at a pc, or null: without it nothing is kept.</param>
    /// <param name="mappingsGeneration">Changes whenever a module is mapped or a range unmapped
    /// (<see cref="ModuleMap.Generation"/>), or null: /proc/self/maps is read at every new pc.</param>
    /// <param name="unloadedAt">For a pc no file mapping holds: the module unloaded from there, if any (a leak
    /// allocated by a library dlclose'd before the exit's leak check), or null.</param>
    public FrameSymbolizer(Func<ulong, (string Path, ulong LoadBias)?>? moduleAt = null, Func<long>? mappingsGeneration = null,
        Func<ulong, (string Path, ulong LoadBias)?>? unloadedAt = null)
    {
        _unloadedAt = unloadedAt;
        _moduleAt = moduleAt;
        _mappingsGeneration = mappingsGeneration;
    }

    public IReadOnlyList<SymbolizedFrame> Frames(ulong pc, bool isReturnAddress)
    {
        ulong lookup = isReturnAddress ? pc - 1 : pc;
        if (_moduleAt?.Invoke(lookup) is not { } module) return Lookup(lookup);
        if (_known.TryGetValue(lookup, out var known) && known.Path == module.Path && known.LoadBias == module.LoadBias) return known.Frames;
        IReadOnlyList<SymbolizedFrame> frames = Lookup(lookup);
        _known[lookup] = (frames, module.LoadBias, module.Path);
        return frames;
    }

    private IReadOnlyList<SymbolizedFrame> Lookup(ulong lookup)
    {
        if (ModuleOf(lookup) is not (string path, ulong bias)) return [];
        try
        {
            if (ReplacementFrames.IsReplacementLibrary(path)) return Replacement(path, bias, lookup);
            if (!_modules.TryGetValue((path, bias), out ModuleSymbolizer? symbolizer))
                _modules[(path, bias)] = symbolizer = new ModuleSymbolizer(path, bias);
            return symbolizer?.Symbolize(lookup) ?? [];
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A report must never fail for want of symbols.
            _modules[(path, bias)] = null;
            return [];
        }
    }

    /// <summary>The file and load bias of the module at <paramref name="lookup"/>: mapped now, or unloaded from there.</summary>
    private (string Path, ulong LoadBias)? ModuleOf(ulong lookup) =>
        Locate(lookup) is ModuleLocation module ? (module.Path, BiasOf(module)) : _unloadedAt?.Invoke(lookup);

    /// <summary>
    /// A callstack named from the symbol tables alone, one frame per pc (<see cref="ModuleSymbolizer.SymbolizeBySymbols"/>):
    /// for matching the default suppressions before a stack is symbolized in full.
    /// </summary>
    public List<ReportFrame> StackBySymbols(IEnumerable<ulong> pcs, bool innermostIsExact = false)
    {
        var frames = new List<ReportFrame>();
        bool first = true;
        foreach (ulong pc in pcs)
        {
            ulong lookup = first && innermostIsExact ? pc : pc - 1;
            first = false;
            SymbolizedFrame? f = SymbolFrame(lookup);
            frames.Add(f == null ? new ReportFrame(pc)
                : new ReportFrame(pc, f.ModulePath, f.ModuleOffset, f.Function, f.File, f.Line, f.Inlined, f.SymbolOffset, f.Replaced, f.MangledFunction));
        }
        return frames;
    }

    private SymbolizedFrame? SymbolFrame(ulong lookup)
    {
        if (ModuleOf(lookup) is not (string path, ulong bias)) return null;
        try
        {
            // The replacements' frames come from their own small table (the routine each replaces).
            if (ReplacementFrames.IsReplacementLibrary(path)) return Replacement(path, bias, lookup) is [var replaced, ..] ? replaced : null;
            if (!_modules.TryGetValue((path, bias), out ModuleSymbolizer? symbolizer))
                _modules[(path, bias)] = symbolizer = new ModuleSymbolizer(path, bias);
            return symbolizer?.SymbolizeBySymbols(lookup);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _modules[(path, bias)] = null;
            return null;
        }
    }

    private ModuleLocation? Locate(ulong lookup)
    {
        if (_mappingsGeneration == null) return ModuleLocator.Find(lookup);
        long generation = _mappingsGeneration();
        if (_mappings != null && generation == _mappingsReadAt && ModuleLocator.Find(_mappings, lookup) is ModuleLocation known) return known;
        // Read after the generation: a change in between makes the next lookup read again.
        _mappings = ModuleLocator.Snapshot();
        _mappingsReadAt = generation;
        return ModuleLocator.Find(_mappings, lookup);
    }

    /// <summary>
    /// A report's callstack: each pc symbolized (inlined calls expanded, innermost first), a pc no
    /// module covers kept bare.
    /// </summary>
    /// <param name="innermostIsExact">The first pc is the faulting instruction itself, the rest are return addresses.</param>
    public List<ReportFrame> Stack(IEnumerable<ulong> pcs, bool innermostIsExact = false)
    {
        var frames = new List<ReportFrame>();
        bool first = true;
        foreach (ulong pc in pcs)
        {
            IReadOnlyList<SymbolizedFrame> symbolized = Frames(pc, isReturnAddress: !(first && innermostIsExact));
            first = false;
            if (symbolized.Count == 0) frames.Add(new ReportFrame(pc));
            foreach (SymbolizedFrame f in symbolized)
                frames.Add(new ReportFrame(pc, f.ModulePath, f.ModuleOffset, f.Function, f.File, f.Line, f.Inlined, f.SymbolOffset, f.Replaced,
                    f.MangledFunction));
        }
        return frames;
    }

    private IReadOnlyList<SymbolizedFrame> Replacement(string path, ulong bias, ulong lookup)
    {
        if (!_replacements.TryGetValue(path, out ReplacementFrames? frames))
        {
            try { frames = new ReplacementFrames(path, bias); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Checker.Symbols.Elf.ElfFormatException) { frames = null; }
            _replacements[path] = frames;
        }
        return frames?.Symbolize(lookup) ?? [];
    }

    /// <summary>"#n frame" lines for a captured stack (all entries are return addresses).</summary>
    public IReadOnlyList<string> Describe(IEnumerable<ulong> returnAddresses)
    {
        var lines = new List<string>();
        foreach (ulong pc in returnAddresses)
        {
            IReadOnlyList<SymbolizedFrame> frames = Frames(pc, isReturnAddress: true);
            if (frames.Count == 0) lines.Add($"#{lines.Count} ?? (0x{pc:x})");
            foreach (SymbolizedFrame frame in frames) lines.Add($"#{lines.Count} {frame}");
        }
        return lines;
    }

    public void Dispose()
    {
        foreach (ModuleSymbolizer? m in _modules.Values) m?.Dispose();
    }
}
