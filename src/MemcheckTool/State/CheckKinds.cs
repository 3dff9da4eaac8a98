namespace Checker.MemcheckTool.State;

/// <summary>Values of <see cref="MemcheckSlots.CheckKind"/> (bits).</summary>
public static class CheckKinds
{
    /// <summary>Addressability only (the propagating mode, where the instruction's own propagation sets the shadow).</summary>
    public const int AddressOnly = 0;
    /// <summary>The access reads: an undefined byte sends the thread to the propagating mode at this instruction.</summary>
    public const int Reads = 1;
    /// <summary>The access writes: without <see cref="Reads"/>, the undefined bytes it writes become defined (mode 0 stores defined values).</summary>
    public const int Writes = 2;
    /// <summary>The propagating mode: an undefined read sets the pending bit in Dirty instead of leaving the cache.</summary>
    public const int InPlace = 4;
    /// <summary>A gather's lane in mode 0: an undefined read sets gs:[VsibUndefined] and returns to the gather routine
    /// (which saved registers of its own and must finish its lane loop before anything leaves for the propagating mode).</summary>
    public const int Deferred = 8;
    /// <summary>A compress store or expand load: it touches the first popcount(mask) elements, whichever bits are set (the routine turns the mask into that prefix).</summary>
    public const int PrefixMask = 16;
}

/// <summary>Values of <see cref="MemcheckSlots.ToolExitReason"/>.</summary>
public static class ToolExitReasons
{
    /// <summary>An access check routine: an unaddressable byte, or (CheckUndefined) an undefined read.</summary>
    public const int AccessCheck = 0;
    /// <summary>The propagating mode: the shadow semantics of the instruction at gs:[PropagateSite], before it runs.</summary>
    public const int Propagate = 1;
    /// <summary>The gather routine, after its lane loop with every register restored: a lane read undefined bytes (mode 0).</summary>
    public const int GatherUndefined = 2;
    /// <summary>A shared exact-lane test counted its site's 4,096th entry (<see cref="Instrumentation.HotLaneSites"/>); nothing to report.</summary>
    public const int HotLanes = 3;
    /// <summary>A site's lazy stub, run for the first time: its stub is made now (<see cref="Instrumentation.LazyStubs"/>); nothing to report.</summary>
    public const int LazyStub = 4;
    /// <summary>A pre-check's lazy hit, run for the first time: its hit path is made now (<see cref="Definedness.LazyHits"/>); nothing to report.</summary>
    public const int LazyHit = 5;
}
