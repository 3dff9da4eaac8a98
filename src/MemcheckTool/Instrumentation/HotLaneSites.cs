using Checker.Engine.CodeCache;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// Access sites whose shared exact-lane test (<see cref="ExactLaneCheck.TryEmitShared"/>) runs
/// often get a test of their own when their fragment is translated again. A shared test serves every
/// site of its shape, so it returns through an indirect jump (gs:[LinkReturn]) that the CPU
/// mispredicts as the sites take turns; a site's own test ends in a direct jump. Most sites never
/// enter their test or do so a few times (cc1plus: ~290,000 stubs, sharing saves ~19% of its code);
/// a few are entered millions of times (sqlite: 97.6M entries from 2,760 sites: loads beside
/// undefined padding, first stores into fresh blocks). So every shared test counts its entries per
/// site, in a table indexed by the site's id modulo <see cref="Capacity"/> (a collision only
/// promotes a site early), and the 2^32 / <see cref="Increment"/>-th entry leaves the cache
/// (<see cref="ToolExitReasons.HotLanes"/>): the site's pc is remembered and its fragment flushed.
/// </summary>
public sealed class HotLaneSites
{
    /// <summary>Counters in the table (a power of two).</summary>
    public const int Capacity = 1 << 20;

    /// <summary>Added per entry: the counter carries out after 2^32 / Increment = 4,096 entries.</summary>
    public const int Increment = 1 << 20;

    // Read without a lock while translating (a monitor per access site was ~1% of cc1plus's
    // translation); promotions are rare.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, bool> _pcs = new();
    // _pcs' size, published after each add: while it is 0 (small programs) translation looks nothing up.
    private int _count;

    public HotLaneSites(CodeRegion region) => Counters = region.AllocateSparseData(4UL * Capacity);

    /// <summary>The 32-bit counters (within disp32 reach of the code, at the same address in every run).</summary>
    public ulong Counters { get; }

    /// <summary>Sites given their own test so far.</summary>
    public int Promoted => Volatile.Read(ref _count);

    /// <summary>The tool exits that asked for a promotion (a flushed fragment may run on and ask again).</summary>
    public long Exits { get; private set; }

    /// <summary>Whether the site at <paramref name="pc"/> gets its own test. Called while translating.</summary>
    public bool Contains(ulong pc)
    {
        if (Volatile.Read(ref _count) == 0) return false;
        return _pcs.ContainsKey(pc);
    }

    /// <summary>Remembers <paramref name="pc"/> and flushes its fragments (under the cache lock, as tool exits are).</summary>
    public void Promote(ulong pc, TranslationCache cache)
    {
        Exits++;
        if (!_pcs.TryAdd(pc, true)) return;
        Interlocked.Increment(ref _count);
        cache.Flush(pc, pc + 1);
    }
}
