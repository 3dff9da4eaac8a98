using Checker.Symbols.Elf;

namespace Checker.Engine.Interception;

/// <summary>
/// Finds the functions to replace in every module the guest maps (the executable, ld.so, and each
/// library its ld.so loads, seen through mmap) by their dynamic or static symbols, and tells the
/// translator which entry points are replaced. Dr. Memory intercepts the malloc family the same
/// way: at the functions' entries, whoever calls them (PLT, function pointer, ld.so).
/// </summary>
public sealed unsafe class FunctionInterceptor
{
    private readonly Dictionary<string, (InterceptedFunction Function, int Rank)> _byName;
    private readonly Dictionary<ulong, (InterceptedFunction Function, int Rank)> _byPc = new();
    private readonly Dictionary<ulong, ulong> _redirects = new();
    private Dictionary<string, ulong> _replacements = new();
    private string? _replacementLibrary;

    /// <param name="functions">In order of preference: when aliases share an address (free, cfree,
    /// __libc_free), the earliest name is the one reports use.</param>
    public FunctionInterceptor(IEnumerable<InterceptedFunction> functions) =>
        _byName = functions.Select((f, i) => (f, i)).ToDictionary(x => x.f.Name, x => (x.f, x.i));

    public int Count => _byPc.Count;

    /// <summary>The entries translated so far, by the number their fragments carry (the cache's direct calls).</summary>
    public InterceptedCalls Calls { get; } = new();

    // Functions the tool needs to find but does not replace (libc's __errno_location, and exit, whose
    // frames the leak scan leaves out), by name: (entry, size) of the first definition seen.
    // libstdc++'s std::__throw_bad_alloc(), which a failed throwing operator new tail-calls.
    private readonly Dictionary<string, (ulong Entry, ulong Size)> _located = new()
    {
        ["__errno_location"] = default, ["exit"] = default, ["_ZSt17__throw_bad_allocv"] = default,
    };

    [ThreadStatic] private static ulong _tailCall;

    /// <summary>
    /// Asked by a handler: instead of returning to its caller, the replaced function goes on at
    /// <paramref name="target"/> with the caller's return address still at [rsp], as a tail call
    /// (a failed operator new throws through libstdc++'s std::__throw_bad_alloc).
    /// </summary>
    public static void RequestTailCall(ulong target) => _tailCall = target;

    /// <summary>The tail call the handler just asked for (0: none), cleared.</summary>
    public static ulong TakeTailCall()
    {
        ulong target = _tailCall;
        if (target != 0) _tailCall = 0;   // asked after every replaced call: no store when there is none
        return target;
    }

    /// <summary>The entry of a function the tool needs to know about (<c>__errno_location</c>, <c>exit</c>), once a module defining it is mapped.</summary>
    public ulong? Locate(string name) => LocateRange(name)?.Start;

    /// <summary>The code range [Start, End) of such a function.</summary>
    public (ulong Start, ulong End)? LocateRange(string name) =>
        _located.TryGetValue(name, out var f) && f.Entry != 0 ? (f.Entry, f.Entry + Math.Max(f.Size, 1)) : null;

    public bool TryGet(ulong pc, out InterceptedFunction function)
    {
        bool found = _byPc.TryGetValue(pc, out var entry);
        function = entry.Function;
        return found;
    }

    /// <summary>
    /// Guest-side replacements (<see cref="StringReplacements"/>), mapped at <paramref name="entries"/>
    /// by name: from now on a module's function of that name is redirected there, and an IFUNC of
    /// that name resolves there (its resolver is replaced by one that returns the replacement).
    /// </summary>
    public void UseReplacements(string libraryPath, IReadOnlyDictionary<string, ulong> entries)
    {
        _replacementLibrary = libraryPath;
        _replacements = new Dictionary<string, ulong>(entries);
    }

    /// <summary>
    /// Runs <paramref name="function"/> at the entry <paramref name="pc"/> found by other means than
    /// a module's symbols (the overlap hook of the string replacements, whose own symbols are never
    /// redirected or intercepted by name).
    /// </summary>
    public void Intercept(ulong pc, InterceptedFunction function) => _byPc[pc] = (function, -1);

    /// <summary>The replacement a translated entry point jumps to instead of its own code.</summary>
    public bool TryGetRedirect(ulong pc, out ulong target) => _redirects.TryGetValue(pc, out target);

    /// <summary>
    /// ld.so keeps private copies of strlen, strchr (index), strcmp, memcpy, mempcpy... that read
    /// aligned vectors past the end of strings it mallocs; they are local symbols, found only in
    /// its separate debug file (libc6-dbg). Valgrind needs the same file for the same reason.
    /// </summary>
    public void RedirectPrivateCopies(string path, ulong start)
    {
        ElfImage image;
        try { image = ElfImage.Open(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException) { return; }
        if (image.Sections.Any(s => s.Name == ".symtab")) return;   // OnModuleMapped saw them
        ElfImage? debug;
        try { debug = new Checker.Symbols.DebugFiles.DebugFileLocator().FindImage(image); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException) { return; }
        if (debug == null) return;
        ulong bias = image.IsPositionIndependent ? start - image.LowestLoadAddress : 0;
        var replacements = _replacements.GetAlternateLookup<ReadOnlySpan<char>>();
        ElfSymbolTable symbols = debug.ReadSymbolTable();
        for (int i = 1; i < symbols.Count; i++)
        {
            ElfSymbolEntry symbol = symbols[i];
            if (symbol.IsDefined && symbol.Type == ElfSymbolType.Func && replacements.TryGetValue(symbols.NameOf(symbol), out _, out ulong replacement))
                _redirects[symbol.Value + bias] = replacement;
        }
    }

    /// <summary>A module was mapped whole at <paramref name="start"/> (its first PT_LOAD at file offset 0 lands there).</summary>
    public void OnModuleMapped(ElfImage image, ulong start, bool isProgram = false)
    {
        string path = image.Path;
        ulong bias = image.IsPositionIndependent ? start - image.LowestLoadAddress : 0;
        bool isReplacementLibrary = path == _replacementLibrary;
        var replacements = _replacements.GetAlternateLookup<ReadOnlySpan<char>>();
        var located = _located.GetAlternateLookup<ReadOnlySpan<char>>();
        var byName = _byName.GetAlternateLookup<ReadOnlySpan<char>>();
        ElfSymbolTable symbols = image.ReadSymbolTable();
        bool ownAllocator = isProgram && CarriesItsOwnAllocator(image, symbols);
        if (ownAllocator) ProgramWithOwnAllocator = path;
        for (int i = 1; i < symbols.Count; i++)
        {
            ElfSymbolEntry symbol = symbols[i];
            if (!symbol.IsDefined || isReplacementLibrary) continue;
            // Only functions and IFUNCs matter: the type decides before the name is looked at.
            if (symbol.Type is not (ElfSymbolType.Func or ElfSymbolType.GnuIfunc)) continue;
            ReadOnlySpan<byte> name = symbols.NameOf(symbol);
            if (replacements.TryGetValue(name, out string replaced, out ulong replacement))
            {
                ulong entry = symbol.Value + bias;
                if (symbol.Type == ElfSymbolType.Func) _redirects[entry] = replacement;
                else _byPc[entry] = (new InterceptedFunction(replaced + " resolver", _ => replacement), -1);
                continue;
            }
            // Not IFUNCs: their symbol is the resolver, not the function.
            if (symbol.Type != ElfSymbolType.Func) continue;
            if (located.TryGetValue(name, out string locatedName, out var found) && found.Entry == 0) _located[locatedName] = (symbol.Value + bias, symbol.Size);
            if (ownAllocator || !byName.TryGetValue(name, out _, out var named)) continue;
            ulong pc = symbol.Value + bias;
            if (!_byPc.TryGetValue(pc, out var existing) || named.Rank < existing.Rank) _byPc[pc] = named;
        }
    }

    /// <summary>
    /// Dynamically linked programs (the executable, not a library: libc.so.6 has an interpreter too)
    /// that define malloc themselves: their allocator is left to run as
    /// their code (Valgrind 3.19 replaces an executable's malloc names, and tests/cases/own_allocator.c
    /// then counts 1,000 bad headers under it). Such an
    /// allocator is reached by more than its exported names (chromium's allocator shim calls
    /// PartitionAlloc through a dispatch table): with its exports replaced, blocks from the
    /// replacement reached its own free, which read PartitionAlloc's metadata below them and
    /// crashed the browser. A static executable's malloc is the C library's, replaced as ever; so
    /// are shared allocator libraries' (libjemalloc, libtcmalloc), whose exports are their API.
    /// </summary>
    private static bool CarriesItsOwnAllocator(ElfImage image, ElfSymbolTable symbols)
    {
        if (image.Interpreter == null) return false;
        for (int i = 1; i < symbols.Count; i++)
        {
            ElfSymbolEntry symbol = symbols[i];
            if (symbol.IsDefined && symbol.Type == ElfSymbolType.Func && symbol.Binding != ElfSymbolBinding.Local
                && symbols.NameOf(symbol).SequenceEqual("malloc"u8)) return true;
        }
        return false;
    }

    /// <summary>The executable whose own malloc family runs unreplaced (<see cref="CarriesItsOwnAllocator"/>), if it has one: its heap blocks go unchecked, which the report says.</summary>
    public string? ProgramWithOwnAllocator { get; private set; }

    /// <summary>Code in [start, end) is gone (dlclose, munmap): forget its entry points.</summary>
    public void OnUnmapped(ulong start, ulong end)
    {
        foreach (ulong pc in _byPc.Keys.Where(pc => pc >= start && pc < end).ToList()) _byPc.Remove(pc);
        foreach (ulong pc in _redirects.Keys.Where(pc => pc >= start && pc < end).ToList()) _redirects.Remove(pc);
    }
}
