using System.Collections.Concurrent;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// --track-origins=yes: where an undefined value came from, as the address of the undefined heap
/// bytes it was first read from (the report names the block holding them and its allocation
/// stack, as Valgrind's "created by a heap allocation"). Each thread's registers and flags carry the
/// origin of their undefined bits (by dirty bit); a store of an undefined register into the heap
/// records its origin for those bytes, so a copied value keeps naming the block it came from.
/// Only the propagating mode and the system-call checks look at origins: mode-0 code pays nothing.
/// </summary>
internal sealed unsafe class Origins
{
    [ThreadStatic] private static ulong[]? _registers;
    // Origins of undefined heap bytes that were copied there, by 8-byte granule.
    private readonly ConcurrentDictionary<ulong, ulong> _copied = new();
    private const int MaxCopied = 1 << 20;
    // The dictionary's own Count takes every lock: at one call per propagated store it was 85% of
    // sort's time under --track-origins.
    private int _count;

    private static ulong[] Registers => _registers ??= new ulong[64];

    public ulong OfRegister(Register register) => ShadowRegisters.DirtyBit(register) is int bit and >= 0 ? Registers[bit] : 0;

    public ulong OfFlags => Registers[ShadowRegisters.FlagsBit];

    /// <summary>
    /// The origin of undefined memory at <paramref name="address"/>: what was stored there, else the
    /// address itself, whose heap block is remembered now (<see cref="BlockOf"/>): by the time a report
    /// names it the block may be freed and its memory another block's.
    /// </summary>
    public ulong OfMemory(ulong address)
    {
        if (_copied.TryGetValue(address & ~7UL, out ulong origin)) return origin;
        RememberBlock(address);
        RememberFrame(address);
        return address;
    }

    // The thread's context and pc while an instruction is propagated (ReadingAt), for the frames.
    [ThreadStatic] private static nint t_context;
    [ThreadStatic] private static ulong t_pc;

    /// <summary>The propagator is about to read the inputs of the instruction at <paramref name="pc"/> (0: done).</summary>
    public static void ReadingAt(ContextBlock* c, ulong pc)
    {
        t_context = (nint)c;
        t_pc = pc;
    }

    /// <summary>The stack frame holding an address, as the thread's stack is now (the tool's <c>OnStack</c>).</summary>
    public Func<nint, ulong, ulong, StackOrigin?>? FrameAt { get; init; }

    // The frame each origin address on the stack was read from, with the stack pointer then (the
    // same rsp: the same frame, not looked up again); a frame returns and its memory becomes
    // another's, so the report cannot look it up.
    private readonly ConcurrentDictionary<ulong, (StackOrigin Frame, ulong Rsp)> _frames = new();
    private int _frameCount;

    private void RememberFrame(ulong address)
    {
        if (FrameAt == null) return;
        ulong granule = address & ~7UL;
        // Outside propagation (a use or a system call reported now): the report looks the frame up
        // itself, as the stack is now; a frame remembered for this address earlier would be stale.
        if (t_context == 0) { _frames.TryRemove(granule, out _); return; }
        ulong rsp = ((ContextBlock*)t_context)->Rsp;
        if (_frames.TryGetValue(granule, out var known) && known.Rsp == rsp) return;
        if (FrameAt(t_context, t_pc, address) is not { } frame) { _frames.TryRemove(granule, out _); return; }
        if (Volatile.Read(ref _frameCount) >= MaxBlocks && !_frames.ContainsKey(granule)) return;
        if (_frames.TryAdd(granule, (frame, rsp))) Interlocked.Increment(ref _frameCount);
        else _frames[granule] = (frame, rsp);
    }

    /// <summary>The stack frame <paramref name="origin"/> (an address <see cref="OfMemory"/> gave) was read from, if it was on the stack.</summary>
    public StackOrigin? FrameOf(ulong origin) => _frames.TryGetValue(origin & ~7UL, out var known) ? known.Frame : null;

    /// <summary>The heap block whose bytes an address is in (the heap's <c>OriginBlockAt</c>; null: no heap).</summary>
    public Func<ulong, Heap.OriginBlock?>? BlockAt { get; init; }

    // The block each origin address was read from, by 8-byte granule, while it is the same block;
    // past MaxBlocks granules (~100 bytes each) an origin's block is looked up at the report, as before.
    private const int MaxBlocks = 1 << 18;
    private readonly ConcurrentDictionary<ulong, Heap.OriginBlock> _blocks = new();
    private int _blockCount;

    /// <summary>Whether a remembered block still holds an address (the heap's <c>StillHolds</c>): then it is not looked up again.</summary>
    public Func<Heap.OriginBlock, ulong, bool>? StillHolds { get; init; }

    private void RememberBlock(ulong address)
    {
        if (BlockAt == null) return;
        ulong granule = address & ~7UL;
        if (_blocks.TryGetValue(granule, out Heap.OriginBlock current) && StillHolds?.Invoke(current, address) == true) return;
        if (BlockAt(address) is not { } block) { _blocks.TryRemove(granule, out _); return; }
        if (_blocks.TryGetValue(granule, out Heap.OriginBlock known) && known == block) return;
        if (Volatile.Read(ref _blockCount) >= MaxBlocks && !_blocks.ContainsKey(granule)) return;
        if (_blocks.TryAdd(granule, block)) Interlocked.Increment(ref _blockCount);
        else _blocks[granule] = block;
    }

    /// <summary>The heap block <paramref name="origin"/> (an address <see cref="OfMemory"/> gave) was read from, if it was one's.</summary>
    public Heap.OriginBlock? BlockOf(ulong origin) => _blocks.TryGetValue(origin & ~7UL, out Heap.OriginBlock block) ? block : null;

    /// <summary>After an instruction: every register (and the flags) it left undefined takes <paramref name="origin"/>.</summary>
    public void Assign(ContextBlock* c, ulong origin, InstructionInfo info, in Instruction ins)
    {
        if (origin == 0) return;
        ulong dirty = ShadowRegisters.Dirty(c);
        foreach (UsedRegister used in info.GetUsedRegisters())
        {
            if (used.Access is not (OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite)) continue;
            if (ShadowRegisters.DirtyBit(used.Register) is int bit and >= 0 && ((dirty >> bit) & 1) != 0) Registers[bit] = origin;
        }
        // An x87 push (fld) names no st register: the x87 state, one dirty bit, takes the origin.
        if (((dirty >> ShadowRegisters.X87Bit) & 1) != 0 && X87Shadows.Touches(ins)) Registers[ShadowRegisters.X87Bit] = origin;
        if (((dirty >> ShadowRegisters.FlagsBit) & 1) != 0 && ((ulong)ins.RflagsModified & ShadowRegisters.StatusFlags) != 0)
            Registers[ShadowRegisters.FlagsBit] = origin;
    }

    /// <summary>An undefined value with <paramref name="origin"/> stored into heap bytes [address, address + length).</summary>
    public void Stored(ulong address, int length, ulong origin)
    {
        if (origin == 0 || Volatile.Read(ref _count) >= MaxCopied) return;
        for (ulong a = address & ~7UL; a < address + (ulong)length; a += 8)
        {
            if (_copied.TryAdd(a, origin)) Interlocked.Increment(ref _count);
            else _copied[a] = origin;
        }
    }
}
