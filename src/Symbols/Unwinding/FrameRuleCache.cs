namespace Checker.Symbols.Unwinding;

/// <summary>
/// Fast CFI unwinding for callstacks captured on hot paths (every malloc and free): the full CFI
/// step (<see cref="ModuleCfi.TryStep"/>) runs once per distinct pc, against probe registers and a
/// recording memory, and is reduced to a <see cref="FrameRule"/>; later steps at that pc are two
/// additions and two loads. The result is confirmed with a second probe, so a rule is only kept
/// when it really is linear in rsp/rbp.
/// </summary>
public sealed class FrameRuleCache(Func<ulong, (string Path, ulong LoadBias)?> moduleOf) : IDisposable
{
    private const ulong ProbeValueTag = 0x5a5a_0000_0000_0000;

    // Lookups happen at every frame of every malloc and free: reads take no lock.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, FrameRule?> _rules = new();
    private readonly Dictionary<string, ModuleCfi?> _modules = new();
    private readonly Lock _lock = new();

    // In front of the dictionary: a direct-mapped table of rules packed into 64 bits, so a hit is
    // one 16-byte read (the dictionary lookup was ~20% of sqlite's time under --tool memcheck, and
    // chasing an entry object per frame still ~15%: every malloc and free walks up to 12 frames).
    // Each slot holds the packed rule and pc ^ packed; a torn read fails that check and only
    // costs a dictionary lookup, so readers need no lock.
    private const int FastSlots = 1 << 14;
    private readonly FastEntry[] _fast = new FastEntry[FastSlots];

    private struct FastEntry
    {
        public ulong Check;
        public ulong Packed;
    }

    /// <summary>The rule at run-time <paramref name="lookupPc"/> (for return addresses: the return address minus 1).</summary>
    public bool TryGetRule(ulong lookupPc, out FrameRule rule) => PackedRule.TryUnpack(PackedRuleAt(lookupPc), out rule);

    /// <summary>As <see cref="TryGetRule"/>, as a <see cref="PackedRule"/> word (never 0).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ulong PackedRuleAt(ulong lookupPc)
    {
        ref FastEntry entry = ref _fast[(int)((lookupPc ^ (lookupPc >> 14)) & (FastSlots - 1))];
        ulong packed = entry.Packed;
        return packed != 0 && (entry.Check ^ packed) == lookupPc ? packed : Fill(ref entry, lookupPc);
    }

    // Out of line: the hit path stays small enough to inline into the walker.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong Fill(ref FastEntry entry, ulong lookupPc)
    {
        if (!_rules.TryGetValue(lookupPc, out FrameRule? cached))
            _rules[lookupPc] = cached = Derive(lookupPc);
        ulong packed = PackedRule.Pack(cached);
        entry.Packed = packed;
        entry.Check = lookupPc ^ packed;
        return packed;
    }

    private FrameRule? Derive(ulong pc)
    {
        if (moduleOf(pc) is not (string path, ulong bias)) return null;
        ModuleCfi? cfi;
        lock (_lock)
        {
            if (!_modules.TryGetValue(path, out cfi)) _modules[path] = cfi = ModuleCfi.Open(path);
        }
        if (cfi == null) return null;
        FrameRule? first = Probe(cfi, pc - bias, 0x1000_0000_0000, 0x2000_0000_0000);
        FrameRule? second = Probe(cfi, pc - bias, 0x1100_0000_0000, 0x2200_0000_0000);
        return first == second ? first : null;
    }

    private static FrameRule? Probe(ModuleCfi cfi, ulong linkPc, ulong rsp, ulong rbp)
    {
        if (!cfi.TryStep(linkPc, new UnwindRegisters(linkPc, rsp, rbp), RecordingMemory.Instance, out UnwindRegisters caller, out _)) return null;
        ulong cfa = caller.Rsp;
        bool fromRbp;
        long offset;
        if (cfa - rsp < 1 << 20) (fromRbp, offset) = (false, (long)(cfa - rsp));
        else if (cfa - rbp < 1 << 20) (fromRbp, offset) = (true, (long)(cfa - rbp));
        else return null;
        if (!RecordingMemory.TryDecode(caller.Rip, out ulong returnSlot)) return null;
        long? savedRbp = null;
        if (caller.Rbp is not ulong callerRbp) return null;
        if (callerRbp != rbp)
        {
            if (!RecordingMemory.TryDecode(callerRbp, out ulong rbpSlot)) return null;
            savedRbp = (long)(rbpSlot - cfa);
        }
        return new FrameRule(fromRbp, offset, (long)(returnSlot - cfa), savedRbp);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (ModuleCfi? m in _modules.Values) m?.Dispose();
            _modules.Clear();
        }
    }

    /// <summary>Answers every read with a value that encodes the address read, so the step shows where it looked.</summary>
    private sealed class RecordingMemory : IMemoryReader
    {
        /// <summary>It keeps nothing: one serves every probe.</summary>
        public static readonly RecordingMemory Instance = new();

        public bool TryReadUInt64(ulong address, out ulong value)
        {
            value = ProbeValueTag | (address & 0xffff_ffff_ffff);
            return true;
        }

        public static bool TryDecode(ulong value, out ulong address)
        {
            address = value & 0xffff_ffff_ffff;
            return (value & 0xffff_0000_0000_0000) == ProbeValueTag;
        }
    }
}
