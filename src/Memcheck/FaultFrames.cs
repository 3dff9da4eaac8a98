using Checker.Engine.Memory;
using Checker.Symbols.Symbolization;

namespace Checker.Memcheck;

/// <summary>The source-level frames of a faulting pc (inlined calls expanded), for the crash report.</summary>
public static class FaultFrames
{
    public static IReadOnlyList<string> Describe(ulong pc)
    {
        if (ModuleLocator.Find(pc) is not ModuleLocation module) return [];
        try
        {
            using var symbolizer = new ModuleSymbolizer(module.Path, module.LoadBias);
            return symbolizer.Symbolize(pc).Select((frame, i) => $"#{i} {frame}").ToList();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A crash report must never fail for want of symbols.
            return [];
        }
    }
}
