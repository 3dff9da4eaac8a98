namespace Checker.Memcheck;

/// <summary>The source-level frames of a faulting pc (inlined calls expanded), for the crash report.</summary>
public static class FaultFrames
{
    public static IReadOnlyList<string> Describe(ulong pc)
    {
        using var symbolizer = new FrameSymbolizer();
        return symbolizer.Frames(pc, isReturnAddress: false).Select((frame, i) => $"#{i} {frame}").ToList();
    }
}
