using System.Runtime.Versioning;
using Checker.Engine.Emission;

namespace Checker.Engine.CodeCache;

/// <summary>
/// All translated code: the region it lives in, the shared routines, the fragment index by
/// application pc, the exit table, direct-branch links and the indirect-branch table. Shared by all
/// guest threads; mutations happen under <see cref="Lock"/>, which is never held while a thread
/// runs in the cache.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class TranslationCache
{
    private const ulong IblTableOffset = 0x10000;

    private readonly Dictionary<ulong, Fragment> _fragments = new();
    /// <summary>Fragments of the tool's other modes, by (pc, mode).</summary>
    private readonly Dictionary<(ulong Pc, int Mode), Fragment> _variants = new();
    // Exits by id, in fixed chunks: a list doubling its one array copied ever larger arrays on the
    // large-object heap, each a step towards a full collection.
    private const int ExitChunkBits = 13;
    private readonly List<ExitStub[]> _exitChunks = [];
    private int _exitCount;
    /// <summary>Live fragments by the 4 KB application pages their code spans: flushes touch only these.</summary>
    private readonly Dictionary<ulong, List<Fragment>> _byPage = new();
    /// <summary>Every fragment ever built, in cache-address order (the region is carved upwards).</summary>
    private readonly List<Fragment> _byAddress = [];
    // The fragments' entries in _byAddress's order (ascending: the region is a bump pointer), searched
    // without touching a Fragment object per probe (cc1plus: 130k fragments, a lookup per tool exit).
    private readonly List<ulong> _entries = [];

    public TranslationCache(CodeRegion region)
    {
        Region = region;
        ulong table = region.Allocate(IndirectBranchTable.ByteSize + IblTableOffset, 4096) + IblTableOffset;
        Routines = RuntimeRoutines.Generate(region);
        IndirectBranches = new IndirectBranchTable(table);
    }

    public object Lock { get; } = new();
    /// <summary>Emit a lookup counter at every indirect branch (for --stats; costs three instructions).</summary>
    public bool CountIndirectLookups { get; init; }
    /// <summary>Measure each translation's CPU time too (for --stats; two system calls a fragment).</summary>
    public bool MeasureTranslationCpu { get; init; }
    public CodeRegion Region { get; }
    public RuntimeRoutines Routines { get; }
    public IndirectBranchTable IndirectBranches { get; }

    // The tool's other modes have tables of their own: a lookup must find fragments of its own mode.
    private readonly Dictionary<int, IndirectBranchTable> _modeTables = new();

    /// <summary>The indirect-branch table of a translation mode (made on first use, under the lock).</summary>
    public IndirectBranchTable IndirectBranchesFor(int mode)
    {
        if (mode == 0) return IndirectBranches;
        if (!_modeTables.TryGetValue(mode, out IndirectBranchTable? table))
        {
            ulong address = Region.Allocate(IndirectBranchTable.ByteSize + IblTableOffset, 4096) + IblTableOffset;
            _modeTables[mode] = table = new IndirectBranchTable(address, mode);
        }
        return table;
    }

    /// <summary>The indirect-branch table whose victim table is at <paramref name="victimAddress"/> (a lookup's miss names it).</summary>
    public IndirectBranchTable? IndirectBranchTableOfVictim(ulong victimAddress)
    {
        if (IndirectBranches.VictimAddress == victimAddress) return IndirectBranches;
        foreach (IndirectBranchTable table in _modeTables.Values)
            if (table.VictimAddress == victimAddress) return table;
        return null;
    }
    public int FragmentCount => _fragments.Count;
    /// <summary>The instruction maps of every fragment (<see cref="Fragment.ApplicationPcAt"/>).</summary>
    public InstructionMaps InstructionMaps { get; } = new();
    public EngineStatistics Statistics { get; } = new();

    public bool TryGet(ulong applicationPc, out Fragment fragment) =>
        _fragments.TryGetValue(applicationPc, out fragment!);

    /// <summary>The fragment of <paramref name="applicationPc"/> translated for the tool's <paramref name="mode"/>.</summary>
    public bool TryGet(ulong applicationPc, int mode, out Fragment fragment) =>
        mode == 0 ? _fragments.TryGetValue(applicationPc, out fragment!) : _variants.TryGetValue((applicationPc, mode), out fragment!);

    public ExitStub Exit(int id) => _exitChunks[id >> ExitChunkBits][id & ((1 << ExitChunkBits) - 1)];

    /// <summary>The id the next exit will have (a fragment's exits are consecutive: <see cref="Fragment.FirstExit"/>).</summary>
    public int NextExitId => _exitCount;

    /// <summary>Allocates an exit-table entry for a fragment being built.</summary>
    public ExitStub NewExit(ExitKind kind, ulong targetPc, ulong faultPc = 0, int faultSignal = 0)
    {
        var exit = new ExitStub(_exitCount, kind, targetPc, faultPc, faultSignal);
        int slot = _exitCount & ((1 << ExitChunkBits) - 1);
        if (slot == 0) _exitChunks.Add(new ExitStub[1 << ExitChunkBits]);
        _exitChunks[^1][slot] = exit;
        _exitCount++;
        return exit;
    }

    public void Add(Fragment fragment)
    {
        if (fragment.Mode == 0) _fragments[fragment.ApplicationPc] = fragment;
        else _variants[(fragment.ApplicationPc, fragment.Mode)] = fragment;
        _byAddress.Add(fragment);
        _entries.Add(fragment.Entry);
        for (ulong page = fragment.ApplicationPc >> 12; page <= (fragment.ApplicationEnd - 1) >> 12; page++)
        {
            if (!_byPage.TryGetValue(page, out List<Fragment>? list)) _byPage[page] = list = [];
            list.Add(fragment);
        }
        Statistics.FragmentsBuilt++;
    }

    /// <summary>The fragment whose code contains <paramref name="cachePc"/>, if any.</summary>
    public Fragment? FindByCachePc(ulong cachePc)
    {
        int found = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_entries).BinarySearch(cachePc);
        if (found < 0) found = ~found - 1;   // the last entry at or below cachePc
        if (found < 0) return null;
        Fragment f = _byAddress[found];
        return cachePc < f.Entry + (ulong)f.Size ? f : null;
    }

    /// <summary>Points a direct exit straight at its target fragment (one aligned 4-byte store).</summary>
    public void Link(ExitStub exit, Fragment target)
    {
        if (exit.LinkedTo != null || exit.Owner is not { Flushed: false } owner || target.Flushed || target.Mode != (exit.TargetMode ?? owner.Mode)) return;
        WriteRel32(exit.PatchSite, target.Entry);
        exit.LinkedTo = target;
        exit.NextIncoming = target.FirstIncoming;
        target.FirstIncoming = exit;
        Statistics.DirectLinks++;
    }

    /// <summary>
    /// Points every direct exit back at its stub and empties the indirect-branch table: every thread
    /// in the cache comes out to its dispatcher at its next branch (a signal is waiting), and links
    /// again as it goes.
    /// </summary>
    public void UnlinkAll()
    {
        foreach (Fragment f in _byAddress)
        {
            f.FirstIncoming = null;
            for (int id = f.FirstExit; id < f.FirstExit + f.ExitCount; id++)
            {
                ExitStub exit = Exit(id);
                exit.NextIncoming = null;
                if (exit.LinkedTo == null) continue;
                WriteRel32(exit.PatchSite, exit.StubAddress);
                exit.LinkedTo = null;
            }
        }
        IndirectBranches.Clear();
        foreach (IndirectBranchTable table in _modeTables.Values) table.Clear();
        Statistics.Unlinks++;
    }

    /// <summary>Removes every fragment translated from [start, end): unmapped or re-protected code.</summary>
    public int Flush(ulong start, ulong end)
    {
        if (end <= start || _byPage.Count == 0) return 0;
        var victims = new List<Fragment>();
        ulong firstPage = start >> 12, lastPage = (end - 1) >> 12;
        IEnumerable<ulong> pages = lastPage - firstPage < (ulong)_byPage.Count
            ? Range(firstPage, lastPage).Where(_byPage.ContainsKey)
            : _byPage.Keys.Where(p => p >= firstPage && p <= lastPage).ToList();
        foreach (ulong page in pages)
            foreach (Fragment f in _byPage[page])
                if (!f.Flushed && f.Overlaps(start, end)) { f.Flushed = true; victims.Add(f); }
        foreach (Fragment f in victims)
        {
            for (ulong page = f.ApplicationPc >> 12; page <= (f.ApplicationEnd - 1) >> 12; page++)
                if (_byPage.TryGetValue(page, out List<Fragment>? list) && list.Remove(f) && list.Count == 0) _byPage.Remove(page);
            if (f.Mode != 0) _variants.Remove((f.ApplicationPc, f.Mode));
            else _fragments.Remove(f.ApplicationPc);
            IndirectBranchesFor(f.Mode).Remove(f.ApplicationPc, f.Entry);
            for (ExitStub? incoming = f.FirstIncoming; incoming != null;)
            {
                WriteRel32(incoming.PatchSite, incoming.StubAddress);
                incoming.LinkedTo = null;
                ExitStub? next = incoming.NextIncoming;
                incoming.NextIncoming = null;
                incoming = next;
            }
            f.FirstIncoming = null;
            for (int id = f.FirstExit; id < f.FirstExit + f.ExitCount; id++)
            {
                ExitStub own = Exit(id);
                if (own.LinkedTo is { } target) RemoveIncoming(target, own);
            }
        }
        Statistics.FragmentsFlushed += victims.Count;
        return victims.Count;
    }

    /// <summary>Takes <paramref name="exit"/> out of <paramref name="target"/>'s incoming links.</summary>
    private static void RemoveIncoming(Fragment target, ExitStub exit)
    {
        if (target.FirstIncoming == exit)
        {
            target.FirstIncoming = exit.NextIncoming;
            exit.NextIncoming = null;
            return;
        }
        for (ExitStub? previous = target.FirstIncoming; previous != null; previous = previous.NextIncoming)
        {
            if (previous.NextIncoming != exit) continue;
            previous.NextIncoming = exit.NextIncoming;
            exit.NextIncoming = null;
            return;
        }
    }

    private static IEnumerable<ulong> Range(ulong first, ulong last)
    {
        for (ulong p = first; p <= last; p++) yield return p;
    }

    private static void WriteRel32(ulong site, ulong target) =>
        Volatile.Write(ref *(int*)site, Rel32.Displacement(site + 4, target));
}
