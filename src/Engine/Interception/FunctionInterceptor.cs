using Checker.Symbols.Elf;

namespace Checker.Engine.Interception;

/// <summary>
/// Finds the functions to replace in every module the guest maps (the executable, ld.so, and each
/// library its ld.so loads, seen through mmap) by their dynamic or static symbols, and tells the
/// translator which entry points are replaced. Dr. Memory intercepts the malloc family the same
/// way: at the functions' entries, whoever calls them (PLT, function pointer, ld.so).
/// </summary>
public sealed class FunctionInterceptor
{
    private readonly Dictionary<string, (InterceptedFunction Function, int Rank)> _byName;
    private readonly Dictionary<ulong, (InterceptedFunction Function, int Rank)> _byPc = new();

    /// <param name="functions">In order of preference: when aliases share an address (free, cfree,
    /// __libc_free), the earliest name is the one reports use.</param>
    public FunctionInterceptor(IEnumerable<InterceptedFunction> functions) =>
        _byName = functions.Select((f, i) => (f, i)).ToDictionary(x => x.f.Name, x => (x.f, x.i));

    public int Count => _byPc.Count;

    public bool TryGet(ulong pc, out InterceptedFunction function)
    {
        bool found = _byPc.TryGetValue(pc, out var entry);
        function = entry.Function;
        return found;
    }

    /// <summary>The loaded modules, kept here because every module passes through <see cref="OnModuleMapped"/>.</summary>
    public Memory.ModuleMap Modules { get; } = new();

    /// <summary>A module was mapped whole at <paramref name="start"/> (its first PT_LOAD at file offset 0 lands there).</summary>
    public void OnModuleMapped(string path, ulong start)
    {
        ElfImage image;
        try { image = ElfImage.Open(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException) { return; }
        Modules.OnMapped(image, start);
        ulong bias = image.IsPositionIndependent ? start - image.LowestLoadAddress : 0;
        foreach (ElfSymbol symbol in image.ReadSymbols())
        {
            // Not IFUNCs: their symbol is the resolver, not the function.
            if (symbol.Type != ElfSymbolType.Func || !symbol.IsDefined) continue;
            if (!_byName.TryGetValue(symbol.Name, out var named)) continue;
            ulong pc = symbol.Value + bias;
            if (!_byPc.TryGetValue(pc, out var existing) || named.Rank < existing.Rank) _byPc[pc] = named;
        }
    }

    /// <summary>Code in [start, end) is gone (dlclose, munmap): forget its entry points.</summary>
    public void OnUnmapped(ulong start, ulong end)
    {
        Modules.OnUnmapped(start, end);
        foreach (ulong pc in _byPc.Keys.Where(pc => pc >= start && pc < end).ToList()) _byPc.Remove(pc);
    }
}
