using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>One access folded into a merged check: its instruction, where it starts relative to the check, its size.</summary>
public readonly record struct MergedAccess(ulong Pc, long Offset, int Size, bool IsWrite, bool IsRead = true);

/// <summary>A check to emit before an instruction: the access (or the union of several), and the parts of a union (a value: no object per check).</summary>
public readonly record struct PlannedCheck(CheckedAccess Access, IReadOnlyList<MergedAccess>? Parts = null);

/// <summary>
/// Decides the checks of a decoded block. Accesses through the same base and index, with those
/// registers unchanged in between, within one straight-line run that keeps rsp still, and together
/// spanning at most <see cref="MaxMergedSpan"/> bytes are checked once, at the first of them, as
/// their union (struct fields, neighbouring array elements, a load and a store to one place): one
/// qword shadow load covers any such span. A union that is not all addressable goes to the slow
/// path, which reports only the parts that touch unaddressable bytes, each at its own instruction.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class CheckPlanner
{
    /// <summary>One qword of shadow covers 32 bytes from a 4-aligned start: any 29-byte span.</summary>
    public const int MaxMergedSpan = 29;

    private readonly MemoryAccessClassifier _classifier = new();

    /// <summary>
    /// Whether accesses of several instructions may share one check. The propagating mode plans one
    /// check per instruction: a merged check would define (or flag) the bytes of a later store
    /// before that store's own propagation runs.
    /// </summary>
    public bool Merge { get; set; } = true;

    /// <summary>Whether a frame's explicit rsp-relative accesses are checked (<see cref="MemoryAccessClassifier.CheckFrames"/>).</summary>
    public bool CheckFrames
    {
        get => _classifier.CheckFrames;
        set => _classifier.CheckFrames = value;
    }

    /// <summary>
    /// With definedness: a write-only union's check defines every undefined byte it covers (the
    /// slow path's whole-lane define), so a union of stores must have no gap, or a struct's padding
    /// between two field stores would read as defined (Valgrind reports it when passed to write()).
    /// Stores with gaps between them are checked as contiguous groups instead.
    /// </summary>
    public bool NoGapsInWrites { get; set; }

    /// <summary>Which globals are checked (<see cref="MemoryAccessClassifier.ChecksGlobalAt"/>).</summary>
    public Func<ulong, ulong, bool>? ChecksGlobalAt
    {
        get => _classifier.ChecksGlobalAt;
        set => _classifier.ChecksGlobalAt = value;
    }

    /// <summary>Whether fs-relative accesses are checked (<see cref="MemoryAccessClassifier.ChecksTlsAt"/>).</summary>
    public Func<ulong, bool>? ChecksTlsAt
    {
        get => _classifier.ChecksTlsAt;
        set => _classifier.ChecksTlsAt = value;
    }

    /// <summary>Whether pops' reads are checked (<see cref="MemoryAccessClassifier.CheckPops"/>).</summary>
    public bool CheckPops
    {
        get => _classifier.CheckPops;
        set => _classifier.CheckPops = value;
    }

    /// <summary>Instructions whose accesses must be checked on their own, by index in the block (null: any may merge).</summary>
    public Func<int, bool>? KeepApart { get; set; }

    private static readonly List<PlannedCheck> NoChecks = [];

    // The block's register facts: a merge's scan forward reads them instead of asking Iced's tables
    // per instruction per candidate.
    private Liveness _registers = null!;
    // Reused from block to block (the plan is read before the next block is planned): translation
    // makes no list per instruction, only the parts arrays of merged checks, which their sites keep.
    private List<CheckedAccess>[] _accesses = [];
    private List<PlannedCheck>[] _lists = [];
    private List<PlannedCheck>[] _plan = [];
    private bool[] _absorbed = [];
    // Per instruction, once per block (a merge's forward scan read them per candidate pair):
    // whether it ends every merge (a branch, an rsp step or write) and whether it must be checked alone.
    private bool[] _breaksAll = [];
    private bool[] _apart = [];
    private readonly List<(int Index, CheckedAccess Access)> _parts = [];
    private readonly List<(int Index, CheckedAccess Access)> _sorted = [];

    /// <summary>
    /// The checks of each instruction of <paramref name="block"/>, by index (the array may be longer,
    /// and is reused by the next call, as are its lists); an instruction without any shares one empty list (read only).
    /// </summary>
    public List<PlannedCheck>[] Plan(ReadOnlySpan<Instruction> block, Liveness registers)
    {
        _registers = registers;
        int n = block.Length;
        if (_accesses.Length < n)
        {
            int old = _accesses.Length;
            Array.Resize(ref _accesses, n);
            Array.Resize(ref _lists, n);
            _plan = new List<PlannedCheck>[n];
            _absorbed = new bool[n];
            _breaksAll = new bool[n];
            _apart = new bool[n];
            for (int i = old; i < n; i++)
            {
                _accesses[i] = new List<CheckedAccess>(2);
                _lists[i] = new List<PlannedCheck>(2);
            }
        }
        List<CheckedAccess>[] accesses = _accesses;
        List<PlannedCheck>[] plan = _plan;
        bool[] absorbed = _absorbed;
        Array.Clear(absorbed, 0, n);
        bool[] breaksAll = _breaksAll, apart = _apart;
        for (int i = 0; i < n; i++)
        {
            accesses[i].Clear();
            ref readonly Instruction ins = ref block[i];
            FlowControl flow = ins.FlowControl;
            if (flow is FlowControl.Next or FlowControl.IndirectCall or FlowControl.IndirectBranch)
                _classifier.Classify(ins, registers.UsedMemoryList(i), accesses[i]);
            breaksAll[i] = flow != FlowControl.Next || registers.SetsStackPointer(i) || ins.StackPointerIncrement != 0;
            apart[i] = accesses[i].Count != 0 && KeepApart?.Invoke(i) == true;
        }

        for (int i = 0; i < n; i++)
        {
            List<CheckedAccess> own = accesses[i];
            if (own.Count == 0 || absorbed[i])
            {
                plan[i] = NoChecks;
                continue;
            }
            List<PlannedCheck> checks = plan[i] = _lists[i];
            checks.Clear();
            for (int k = 0; k < own.Count; k++)
            {
                CheckedAccess access = own[k];
                if (!Merge || apart[i] || own.Count != 1 || !Mergeable(access) || DefinedOutright(access) || Breaks(i, access))
                {
                    checks.Add(new PlannedCheck(access));
                    continue;
                }
                long low = access.Displacement, high = access.Displacement + access.Size;
                List<(int Index, CheckedAccess Access)> parts = _parts;
                parts.Clear();
                parts.Add((i, access));
                bool anyRead = access.IsRead;
                for (int j = i + 1; j < n; j++)
                {
                    if (accesses[j].Count == 1 && !absorbed[j] && !apart[j] && accesses[j][0] is var other && Mergeable(other) && !DefinedOutright(other) &&
                        other.Base == access.Base && other.Index == access.Index && other.Scale == access.Scale && other.FsRelative == access.FsRelative)
                    {
                        long newLow = Math.Min(low, other.Displacement), newHigh = Math.Max(high, other.Displacement + other.Size);
                        if (newHigh - newLow <= MaxMergedSpan)
                        {
                            (low, high) = (newLow, newHigh);
                            parts.Add((j, other));
                            anyRead |= other.IsRead;
                            absorbed[j] = true;
                        }
                    }
                    if (Breaks(j, access)) break;
                }
                if (parts.Count == 1)
                {
                    checks.Add(new PlannedCheck(access));
                    continue;
                }
                // All at the first instruction: the base and index are the same there for every part.
                if (NoGapsInWrites && !anyRead) AddContiguousGroups(checks, block, i, access, parts);
                else checks.Add(Union(block, i, access, parts, 0, parts.Count));
            }
        }
        return plan;
    }

    /// <summary>
    /// The check at instruction <paramref name="at"/> for <paramref name="parts"/>[start, start + count)
    /// (one part of a later instruction stays a part, reported at its own pc).
    /// </summary>
    private static PlannedCheck Union(ReadOnlySpan<Instruction> block, int at, CheckedAccess first, List<(int Index, CheckedAccess Access)> parts, int start, int count)
    {
        if (count == 1 && parts[start].Index == at) return new PlannedCheck(parts[start].Access);
        long low = long.MaxValue, high = long.MinValue;
        bool isWrite = false, isRead = false;
        for (int p = start; p < start + count; p++)
        {
            CheckedAccess access = parts[p].Access;
            low = Math.Min(low, access.Displacement);
            high = Math.Max(high, access.Displacement + access.Size);
            isWrite |= access.IsWrite;
            isRead |= access.IsRead;
        }
        var union = first with { Displacement = low, Size = (int)(high - low), IsWrite = isWrite, IsRead = isRead };
        var merged = new MergedAccess[count];
        for (int p = 0; p < count; p++)
        {
            (int index, CheckedAccess access) = parts[start + p];
            merged[p] = new MergedAccess(block[index].IP, access.Displacement - low, access.Size, access.IsWrite, access.IsRead);
        }
        return new PlannedCheck(union, merged);
    }

    /// <summary>The parts in runs whose bytes touch or overlap, each run without a gap, one check per run (in displacement order, stable).</summary>
    private void AddContiguousGroups(List<PlannedCheck> checks, ReadOnlySpan<Instruction> block, int at, CheckedAccess first, List<(int Index, CheckedAccess Access)> parts)
    {
        List<(int Index, CheckedAccess Access)> sorted = _sorted;
        sorted.Clear();
        // Insertion sort, stable (a few parts): equal displacements keep their order.
        foreach (var part in parts)
        {
            int k = sorted.Count;
            sorted.Add(part);
            while (k > 0 && sorted[k - 1].Access.Displacement > part.Access.Displacement)
            {
                sorted[k] = sorted[k - 1];
                k--;
            }
            sorted[k] = part;
        }
        int groupStart = 0;
        long end = 0;
        for (int p = 0; p < sorted.Count; p++)
        {
            CheckedAccess access = sorted[p].Access;
            long partEnd = access.Displacement + access.Size;
            if (p == 0 || access.Displacement > end)
            {
                if (p > 0) checks.Add(Union(block, at, first, sorted, groupStart, p - groupStart));
                groupStart = p;
                end = partEnd;
            }
            else end = Math.Max(end, partEnd);
        }
        checks.Add(Union(block, at, first, sorted, groupStart, sorted.Count - groupStart));
    }

    /// <summary>A frame's write-only store with frames checked: kept alone, the emitter defines its lanes without a check.</summary>
    private bool DefinedOutright(CheckedAccess access) =>
        CheckFrames && access.Base == Register.RSP && access.Index == Register.None && access.IsWrite && !access.IsRead;

    private static bool Mergeable(CheckedAccess access) =>
        access.Extent == AccessExtent.Fixed && access.OpMask == Register.None;

    /// <summary>True when, after instruction <paramref name="index"/>, later accesses can no longer share a check with <paramref name="access"/>.</summary>
    private bool Breaks(int index, CheckedAccess access)
    {
        if (_breaksAll[index]) return true;
        int registers = Liveness.RegisterBit(access.Base) | Liveness.RegisterBit(access.Index);
        return (_registers.WrittenRegisters(index) & registers) != 0;
    }
}
