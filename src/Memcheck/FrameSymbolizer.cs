using Checker.Engine.Memory;
using Checker.Symbols.Symbolization;

namespace Checker.Memcheck;

/// <summary>
/// Turns raw pcs into source frames, one symbolizer per module (opened lazily, kept for the run).
/// Return addresses are looked up at pc-1, inside the call, so the line is the call's.
/// </summary>
public sealed class FrameSymbolizer : IDisposable
{
    private readonly Dictionary<string, ModuleSymbolizer?> _modules = new();

    public IReadOnlyList<SymbolizedFrame> Frames(ulong pc, bool isReturnAddress)
    {
        ulong lookup = isReturnAddress ? pc - 1 : pc;
        if (ModuleLocator.Find(lookup) is not ModuleLocation module) return [];
        try
        {
            if (!_modules.TryGetValue(module.Path, out ModuleSymbolizer? symbolizer))
                _modules[module.Path] = symbolizer = new ModuleSymbolizer(module.Path, module.LoadBias);
            return symbolizer?.Symbolize(lookup) ?? [];
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A report must never fail for want of symbols.
            _modules[module.Path] = null;
            return [];
        }
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
