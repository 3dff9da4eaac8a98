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
public sealed unsafe partial class TranslationCache
{
    private const ulong IblTableOffset = 0x10000;

    // The mode-0 index by application pc (fragment numbers: see PcIndex).
    private readonly PcIndex _index = new();
    // Every mode's entries, for the many queries about pcs that have none (see EntryFilter).
    private readonly EntryFilter _entryFilter = new();
    // Where decoded jumps lead (see IsJoin): the same filter, over branch targets instead of entries.
    private readonly EntryFilter _branchTargets = new();
    private int _fragmentCount;
    /// <summary>Fragments of the tool's other modes, by (pc, mode).</summary>
    private readonly Dictionary<(ulong Pc, int Mode), Fragment> _variants = new();
    // Exits by id, in fixed chunks: a list doubling its one array copied ever larger arrays on the
    // large-object heap, each a step towards a full collection.
    // 2,048 exits of 32 bytes a chunk: below the large-object threshold.
    private const int ExitChunkBits = 11;
    private readonly List<ExitStub[]> _exitChunks = [];
    private int _exitCount;
    // What only a few exits need, by id (kept out of ExitStub so its chunks hold no references).
    private readonly Dictionary<int, (ulong Pc, int Signal)> _faults = new();
    private readonly Dictionary<int, Interception.InterceptedFunction> _functions = new();
    /// <summary>Live fragments by the 4 KB application pages their code spans: flushes touch only these.</summary>
    private readonly Dictionary<ulong, List<Fragment>> _byPage = new();
    /// <summary>Every fragment ever built, in cache-address order (the region is carved upwards), in fixed chunks (no large-object arrays).</summary>
    private const int AddressChunkBits = 12;
    private const int AddressChunkSize = 1 << AddressChunkBits;
    private readonly List<Fragment[]> _byAddress = [];
    // The fragments' entries in _byAddress's order (ascending: the region is a bump pointer), searched
    // without touching a Fragment object per probe (cc1plus: 130k fragments, a lookup per tool exit).
    private readonly List<ulong[]> _entries = [];
    private int _addressCount;
    private readonly EntryPages _entryPages;

    public TranslationCache(CodeRegion region)
    {
        Region = region;
        _entryPages = new EntryPages(region.Start);
        ulong table = region.Allocate(IndirectBranchTable.ByteSize + IblTableOffset, 4096) + IblTableOffset;
        Routines = RuntimeRoutines.Generate(region);
        IndirectBranches = new IndirectBranchTable(table);
        ExitStubs = new ExitStubArea(region, Routines.Exit);
    }

    /// <summary>Where direct exits' stubs go, apart from the fragments' code.</summary>
    public ExitStubArea ExitStubs { get; }

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

    public int FragmentCount => _fragmentCount;

    /// <summary>The instruction maps of every fragment (<see cref="Fragment.ApplicationPcAt"/>).</summary>
    public InstructionMaps InstructionMaps { get; } = new();
    public EngineStatistics Statistics { get; } = new();

    public bool TryGet(ulong applicationPc, out Fragment fragment)
    {
        int number = ExitStub.NoFragment;
        bool found = _entryFilter.MayContain(applicationPc) && _index.TryGet(applicationPc, out number);
        fragment = found ? FragmentAt(number) : null!;
        return found;
    }

    /// <summary>The fragment of <paramref name="applicationPc"/> translated for the tool's <paramref name="mode"/>.</summary>
    public bool TryGet(ulong applicationPc, int mode, out Fragment fragment)
    {
        if (mode == 0) return TryGet(applicationPc, out fragment);
        fragment = null!;
        return _entryFilter.MayContain(applicationPc) && _variants.TryGetValue((applicationPc, mode), out fragment!);
    }

    /// <summary>A translation of <paramref name="applicationPc"/> begins: its index slot starts coming in (<see cref="PcIndex.Prefetch"/>).</summary>
    public void Translating(ulong applicationPc, int mode)
    {
        if (mode == 0) _index.Prefetch(applicationPc);
    }

    /// <summary>Whether a live fragment of <paramref name="mode"/> starts at <paramref name="applicationPc"/> (the fragment not loaded).</summary>
    public bool HasEntry(ulong applicationPc, int mode) =>
        _entryFilter.MayContain(applicationPc) && (mode == 0 ? _index.TryGet(applicationPc, out _) : _variants.ContainsKey((applicationPc, mode)));

    /// <summary>
    /// Records that a decoded direct jmp or jcc leads to <paramref name="target"/>, where code will
    /// join (<see cref="IsJoin"/>).
    /// </summary>
    public void NoteBranchTarget(ulong target) => _branchTargets.Add(target);

    /// <summary>
    /// Whether a block decoded through <paramref name="applicationPc"/> should end before it: a
    /// fragment starts there, or a jump decoded before leads there (a join after an if, a loop
    /// head), where a fragment will start once that jump is taken. A superblock that ran on would
    /// copy the code from the join on, and so would the fragment made there later (true may be
    /// wrong for a jump target: the filter keeps 24 address bits; ending a block early is only a
    /// jump more).
    /// </summary>
    public bool IsJoin(ulong applicationPc, int mode) => _branchTargets.MayContain(applicationPc) || HasEntry(applicationPc, mode);

    /// <summary>A copy of exit <paramref name="id"/> as it is now.</summary>
    public ExitStub Exit(int id) => ExitAt(id);

    /// <summary>The stored exit <paramref name="id"/> (under the lock).</summary>
    internal ref ExitStub ExitAt(int id) => ref _exitChunks[id >> ExitChunkBits][id & ((1 << ExitChunkBits) - 1)];

    /// <summary>The id the next exit will have (a fragment's exits are consecutive: <see cref="Fragment.FirstExit"/>).</summary>
    public int NextExitId => _exitCount;

    /// <summary>
    /// Allocates an exit-table entry for a fragment being built: its <paramref name="id"/>, and the
    /// stored exit for the translator to fill in.
    /// </summary>
    internal ref ExitStub NewExit(out int id, ExitKind kind, ulong targetPc, ulong faultPc = 0, int faultSignal = 0)
    {
        int slot = _exitCount & ((1 << ExitChunkBits) - 1);
        // Not cleared by the GC first (no references; an exit is read only once made): clearing fresh
        // chunks was a pass over cold memory before the exits' own stores (cc1plus: ~19 MB).
        if (slot == 0) _exitChunks.Add(GC.AllocateUninitializedArray<ExitStub>(1 << ExitChunkBits));
        ref ExitStub exit = ref _exitChunks[^1][slot];
        exit = new ExitStub(kind, targetPc);
        if (faultPc != 0 || faultSignal != 0) _faults[_exitCount] = (faultPc, faultSignal);
        id = _exitCount++;
        return ref exit;
    }

    /// <summary>As <see cref="NewExit(out int, ExitKind, ulong, ulong, int)"/> for an exit needing nothing more than its id.</summary>
    internal int NewExitId(ExitKind kind, ulong targetPc, ulong faultPc = 0, int faultSignal = 0)
    {
        NewExit(out int id, kind, targetPc, faultPc, faultSignal);
        return id;
    }

    /// <summary>For an <see cref="ExitKind.Fault"/> exit: the faulting instruction and the signal it raises (0, 0 for other exits).</summary>
    public (ulong Pc, int Signal) FaultOf(int id) => _faults.TryGetValue(id, out var fault) ? fault : default;

    /// <summary>For an <see cref="ExitKind.Intercept"/> exit: the replacement, valid while its fragment is not flushed.</summary>
    public Interception.InterceptedFunction? FunctionOf(int id) => _functions.GetValueOrDefault(id);

    internal void SetFunction(int id, Interception.InterceptedFunction function) => _functions[id] = function;

    /// <summary>Fragment number <paramref name="number"/> (<see cref="Fragment.Number"/>).</summary>
    public Fragment FragmentAt(int number) => _byAddress[number >> AddressChunkBits][number & (AddressChunkSize - 1)];

    /// <summary>The fragment <paramref name="exit"/> leaves (null while it is being built).</summary>
    public Fragment? OwnerOf(in ExitStub exit) => exit.OwnerNumber == ExitStub.NoFragment ? null : FragmentAt(exit.OwnerNumber);

    public void Add(Fragment fragment)
    {
        fragment.Number = _addressCount;
        _entryFilter.Add(fragment.ApplicationPc);
        if (fragment.Mode != 0) _variants[(fragment.ApplicationPc, fragment.Mode)] = fragment;
        else if (_index.Set(fragment.ApplicationPc, fragment.Number)) _fragmentCount++;
        int slot = _addressCount & (AddressChunkSize - 1);
        if (slot == 0)
        {
            _byAddress.Add(new Fragment[AddressChunkSize]);
            _entries.Add(new ulong[AddressChunkSize]);
        }
        _byAddress[^1][slot] = fragment;
        _entries[^1][slot] = fragment.Entry;
        _entryPages.Append(_addressCount, fragment.Entry);
        _addressCount++;
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
        if (_addressCount == 0 || cachePc < _entries[0][0]) return null;
        // The last entry at or below cachePc, among the fragments of its page (and the one before).
        (int low, int high) = _entryPages.Candidates(cachePc, _addressCount);
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (_entries[middle >> AddressChunkBits][middle & (AddressChunkSize - 1)] <= cachePc) low = middle;
            else high = middle - 1;
        }
        Fragment f = _byAddress[low >> AddressChunkBits][low & (AddressChunkSize - 1)];
        return cachePc < f.Entry + (ulong)f.Size ? f : null;
    }

    /// <summary>Points direct exit <paramref name="id"/> straight at its target fragment (one 4-byte store within an aligned quadword).</summary>
    public void Link(int id, Fragment target)
    {
        ref ExitStub exit = ref ExitAt(id);
        if (exit.IsLinked || OwnerOf(exit) is not { Flushed: false } owner || target.Flushed || target.Mode != (exit.TargetMode ?? owner.Mode)) return;
        PointAt(ref exit, target.Entry);
        exit.LinkedNumber = target.Number;
        exit.NextIncoming = target.FirstIncoming;
        target.FirstIncoming = id;
        Statistics.DirectLinks++;
    }

    /// <summary>
    /// Points every direct exit back at its stub and empties the indirect-branch table: every thread
    /// in the cache comes out to its dispatcher at its next branch (a signal is waiting), and links
    /// again as it goes.
    /// </summary>
    public void UnlinkAll()
    {
        for (int i = 0; i < _addressCount; i++)
        {
            Fragment f = _byAddress[i >> AddressChunkBits][i & (AddressChunkSize - 1)];
            f.FirstIncoming = ExitStub.None;
            for (int id = f.FirstExit; id < f.FirstExit + f.ExitCount; id++)
            {
                ref ExitStub exit = ref ExitAt(id);
                exit.NextIncoming = ExitStub.None;
                if (!exit.IsLinked) continue;
                PointAtStub(ref exit);
                exit.LinkedNumber = ExitStub.NoFragment;
            }
        }
        IndirectBranches.Clear();
        foreach (IndirectBranchTable table in _modeTables.Values) table.Clear();
        Statistics.Unlinks++;
    }

    /// <summary>
    /// How many times guest code may have changed under the cache (<see cref="FlushChangedCode"/>):
    /// facts read from guest code outside one fragment's translation hold while this stays the same.
    /// </summary>
    public long CodeChanges { get; private set; }

    /// <summary>
    /// As <see cref="Flush"/>, for memory whose code may now be different (unmapped, re-protected,
    /// mapped over, discarded by a client request); not for a fragment translated again as it was.
    /// </summary>
    public int FlushChangedCode(ulong start, ulong end)
    {
        CodeChanges++;
        return Flush(start, end);
    }

    /// <summary>Removes every fragment translated from [start, end): unmapped or re-protected code, or to translate again.</summary>
    public int Flush(ulong start, ulong end)
    {
        if (end <= start || (_byPage.Count == 0 && _slotReaders.Count == 0)) return 0;
        var victims = new List<Fragment>();
        ulong firstPage = start >> 12, lastPage = (end - 1) >> 12;
        IEnumerable<ulong> pages = lastPage - firstPage < (ulong)_byPage.Count
            ? Range(firstPage, lastPage).Where(_byPage.ContainsKey)
            : _byPage.Keys.Where(p => p >= firstPage && p <= lastPage).ToList();
        foreach (ulong page in pages)
            foreach (Fragment f in _byPage[page])
                if (!f.Flushed && f.Overlaps(start, end)) { f.Flushed = true; victims.Add(f); }
        CollectSlotReaders(start, end, victims);
        Evict(victims);
        return victims.Count;
    }

    /// <summary>Takes flushed fragments out of the index, the page lists and the tables, and undoes every link to and from them.</summary>
    private void Evict(List<Fragment> victims)
    {
        foreach (Fragment f in victims)
        {
            if (Translation.BlockTranslator.Trace)
                Console.Error.WriteLine($"memcheck-trace: flushed fragment 0x{f.ApplicationPc:x}-0x{f.ApplicationEnd:x} m{f.Mode} at 0x{f.Entry:x}");
            for (ulong page = f.ApplicationPc >> 12; page <= (f.ApplicationEnd - 1) >> 12; page++)
                if (_byPage.TryGetValue(page, out List<Fragment>? list) && list.Remove(f) && list.Count == 0) _byPage.Remove(page);
            if (f.Mode != 0) _variants.Remove((f.ApplicationPc, f.Mode));
            else if (_index.Remove(f.ApplicationPc)) _fragmentCount--;
            IndirectBranchesFor(f.Mode).Remove(f.ApplicationPc, f.LookupEntry);
            for (int id = f.FirstIncoming; id != ExitStub.None;)
            {
                ref ExitStub incoming = ref ExitAt(id);
                PointAtStub(ref incoming);
                incoming.LinkedNumber = ExitStub.NoFragment;
                id = incoming.NextIncoming;
                incoming.NextIncoming = ExitStub.None;
            }
            f.FirstIncoming = ExitStub.None;
            // Its own exits back to their stubs too: a flushed fragment can still be entered, by a
            // thread in flight or at a return's predicted continuation (Translation.ReturnPrediction),
            // and then must leave for the dispatcher, never for a fragment flushed with it.
            for (int id = f.FirstExit; id < f.FirstExit + f.ExitCount; id++)
            {
                ref ExitStub own = ref ExitAt(id);
                if (!own.IsLinked) continue;
                RemoveIncoming(FragmentAt(own.LinkedNumber), id, ref own);
                PointAtStub(ref own);
                own.LinkedNumber = ExitStub.NoFragment;
            }
        }
        Statistics.FragmentsFlushed += victims.Count;
        if (victims.Count > 0) Evicted?.Invoke(victims);
    }

    /// <summary>
    /// Told which fragments a flush took out, after their links are undone (under the cache lock): the
    /// threads' predicted continuations may still name their entries (<see cref="Translation.ReturnPrediction.Forget"/>).
    /// </summary>
    public Action<IReadOnlyList<Fragment>>? Evicted { get; set; }

    /// <summary>A direct exit's jump, and a call continuation's store, to <paramref name="entry"/>.</summary>
    private static void PointAt(ref ExitStub exit, ulong entry)
    {
        WriteRel32(exit.PatchSite, entry);
        if (exit.ContinuationField is not 0 and ulong field) Volatile.Write(ref *(int*)field, checked((int)entry));
    }

    /// <summary>Undoes <see cref="PointAt"/>: the jump to the exit's stub, a continuation's store to that jump.</summary>
    internal static void PointAtStub(ref ExitStub exit)
    {
        WriteRel32(exit.PatchSite, exit.StubAddress);
        if (exit.ContinuationField is not 0 and ulong field) Volatile.Write(ref *(int*)field, checked((int)(exit.PatchSite - 1)));
    }

    /// <summary>Takes <paramref name="exit"/> (exit <paramref name="exitId"/>) out of <paramref name="target"/>'s incoming links.</summary>
    private void RemoveIncoming(Fragment target, int exitId, ref ExitStub exit)
    {
        if (target.FirstIncoming == exitId)
        {
            target.FirstIncoming = exit.NextIncoming;
            exit.NextIncoming = ExitStub.None;
            return;
        }
        for (int id = target.FirstIncoming; id != ExitStub.None;)
        {
            ref ExitStub previous = ref ExitAt(id);
            if (previous.NextIncoming != exitId)
            {
                id = previous.NextIncoming;
                continue;
            }
            previous.NextIncoming = exit.NextIncoming;
            exit.NextIncoming = ExitStub.None;
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
