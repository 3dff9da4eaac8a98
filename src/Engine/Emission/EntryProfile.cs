using Iced.Intel;
using Checker.Engine.State;

namespace Checker.Engine.Emission;

/// <summary>
/// A developer's measurement, off unless MEMCHECK_ENTRY_PROFILE=1: how often each fragment is
/// entered and how often its last instruction is reached, summed at exit by how the fragment ends
/// (a direct jmp back or forward, a direct call, ret, an indirect branch, a conditional branch at
/// the side-exit limit, or falling through into a fragment already made). It sizes what joining
/// fragments would save: on cc1plus 326M entries, 46% of them left by a side exit, 15.2% by a
/// direct call, 15.8% by ret, 10.5% by a direct jmp. Each fragment counts with a flag-free
/// increment (rax kept in ctx[ProfileScratch]) of counters in the code region (disp32 reach);
/// such a run is not persisted.
/// </summary>
public static class EntryProfile
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("MEMCHECK_ENTRY_PROFILE") == "1";
    private const int Capacity = 1 << 19;
    private static ulong _counters;
    private static int _count;
    private static (ulong Pc, ulong End, FlowControl Flow, ulong Target, bool EndsBlock, int Mode)[]? _info;

    /// <summary>Carves the counters (2 per fragment) before a translation takes its place in the region.</summary>
    public static void EnsureCounters(CodeCache.CodeRegion region)
    {
        if (_counters != 0) return;
        _counters = region.Allocate(16UL * Capacity, 64);
        _info = new (ulong, ulong, FlowControl, ulong, bool, int)[Capacity];
    }

    /// <summary>A profiled fragment's number, or -1 (profile off, or full).</summary>
    public static int Begin(ulong pc, int mode)
    {
        if (!Enabled || _info == null || _count >= Capacity) return -1;
        _info[_count] = (pc, 0, FlowControl.Next, 0, false, mode);
        return _count++;
    }

    public static void Finish(int index, in Instruction last, bool endsBlock)
    {
        if (index < 0) return;
        ulong target = last.FlowControl is FlowControl.UnconditionalBranch or FlowControl.Call && last.Op0Kind == OpKind.NearBranch64
            ? last.NearBranchTarget : 0;
        _info![index] = (_info[index].Pc, last.NextIP, last.FlowControl, target, endsBlock, _info[index].Mode);
    }

    /// <summary>Counts one pass: <paramref name="which"/> 0 at the entry, 1 before the last instruction.</summary>
    public static void Emit(CodeBuffer code, int index, int which)
    {
        if (index < 0) return;
        var counter = new MemoryOperand(Register.None, Register.None, 1, (long)(_counters + 16UL * (ulong)index + 8UL * (ulong)which), 4, false, Register.None);
        code.StoreSlot(ContextOffsets.ProfileScratch, Register.RAX);
        code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RAX, counter));
        code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RAX, new MemoryOperand(Register.RAX, Register.None, 1, 1, 1, false, Register.None)));
        code.Encode(Instruction.Create(Code.Mov_rm64_r64, counter, Register.RAX));
        code.LoadSlot(Register.RAX, ContextOffsets.ProfileScratch);
    }

    /// <summary>How a fragment ends, as the profile groups them.</summary>
    public static string EndingOf(ulong pc, ulong end, FlowControl flow, ulong target, bool endsBlock) => !endsBlock ? "falls through" : flow switch
    {
        FlowControl.UnconditionalBranch when target != 0 => target < pc ? "jmp back" : target >= end ? "jmp forward" : "jmp inside",
        FlowControl.UnconditionalBranch => "jmp indirect",
        FlowControl.IndirectBranch => "jmp indirect",
        FlowControl.Call when target != 0 => "call direct",
        FlowControl.IndirectCall => "call indirect",
        FlowControl.Return => "ret",
        FlowControl.ConditionalBranch => "jcc (limit)",
        _ => "other",
    };

    /// <summary>The totals by ending, on stderr (at the process's end).</summary>
    public static unsafe void Print()
    {
        if (!Enabled || _info == null) return;
        ulong* counts = (ulong*)_counters;
        double entries = 0, ends = 0, otherModes = 0;
        long otherModeFragments = 0;
        var byEnding = new Dictionary<string, (long Fragments, double Entries, double Ends)>();
        for (int i = 0; i < _count; i++)
        {
            var f = _info[i];
            string ending = EndingOf(f.Pc, f.End, f.Flow, f.Target, f.EndsBlock);
            var sum = byEnding.GetValueOrDefault(ending);
            byEnding[ending] = (sum.Fragments + 1, sum.Entries + counts[2 * i], sum.Ends + counts[2 * i + 1]);
            entries += counts[2 * i];
            ends += counts[2 * i + 1];
            if (f.Mode != 0) { otherModes += counts[2 * i]; otherModeFragments++; }
        }
        var err = Console.Error;
        err.WriteLine($"entry profile: {_count} fragments, {entries:F0} entries, {ends:F0} reached their last instruction");
        err.WriteLine($"entry profile: in the tool's other modes {otherModeFragments} fragments, {otherModes:F0} entries");
        // How often fragments run at all: translation spent on ones entered a few times is not repaid.
        long[] byDecade = new long[8];
        for (int i = 0; i < _count; i++) byDecade[counts[2 * i] == 0 ? 0 : Math.Min(7, 1 + (int)Math.Log10(counts[2 * i]))]++;
        err.WriteLine($"entry profile: fragments entered 0 / 1-9 / 10-99 / 100-999 / 1e3-1e4 / 1e4-1e5 / 1e5-1e6 / more times: {string.Join(" / ", byDecade)}");
        foreach ((string ending, var sum) in byEnding.OrderByDescending(p => p.Value.Ends))
            err.WriteLine($"entry profile: {ending,-14} {sum.Fragments,8} fragments {sum.Entries,14:F0} entries {sum.Ends,14:F0} ends ({100 * sum.Ends / Math.Max(1, entries):F1}% of all entries)");
        // Where the indirect branches are (which sites a lookup or a jump table serves).
        var indirect = Enumerable.Range(0, _count)
            .Where(i => _info[i].EndsBlock && _info[i].Flow is FlowControl.IndirectBranch or FlowControl.IndirectCall)
            .GroupBy(i => _info[i].End).Select(g => (End: g.Key, Ends: g.Sum(i => (double)counts[2 * i + 1]), Flow: _info[g.First()].Flow))
            .OrderByDescending(s => s.Ends).Take(12);
        foreach (var site in indirect)
            err.WriteLine($"entry profile: {(site.Flow == FlowControl.IndirectCall ? "call" : "jmp"),-4} ending at 0x{site.End:x} {site.Ends,14:F0} times");
    }
}
