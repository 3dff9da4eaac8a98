using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// The first part of an access's slow-path stub: the inline check loaded the whole shadow window
/// that covers the access from its 4-byte-aligned start (its alignment is not known when
/// translating), so a neighbour's undefined or unaddressable byte sends it to the stub. Here the
/// access's own lanes are tested exactly, at any alignment, before anything costlier:
/// <code>
///   mov  gs:[StubSaveRegister], t          ; a second register (rax, or rdx when rax is the scratch)
///   lea  s, [operand]
///   lea  t, [s + s] ; and t, 6              ; the first lane's bit position within the window
///   shlx t, [rip + lanes(n)], t             ; the access's n lanes (or their high bits, for a store)
///   shr  s, 2
///   test fs:[s], t                          ; as wide as the inline probe
///   jnz  slow
///   (a store of mode-0 code: shr t, 1 ; not t ; and fs:[s], t: its 01 lanes defined)
///   mov  t, gs:[StubSaveRegister] ; jmp resume
/// slow:
/// </code>
/// With live flags (the inline check was flag-free) they are kept through lahf/seto in rax, as the
/// routines do. A store that defines lanes shares its first and last shadow bytes with neighbours,
/// so once the program has a second thread (a byte in the lane table says) it goes on to the
/// routine, whose locked <c>and</c>s are aligned.
/// The propagating mode's reads (and its plain register stores, <see cref="LaneAction.Pending"/>)
/// whose lanes are defined or undefined (00/01) set the pending bit here, as the routine would:
/// <code>
///   test fs:[s], t (high bits) ; jnz slow ; shr t, 1 ; test fs:[s], t ; jz resume ; or byte gs:[Dirty+3], 0x40 (the pending bit)
/// </code>
/// (sort's merge loop, copying 32-byte line records whose key fields were never set, entered the
/// routine 24M times to have it set that bit.)
/// Measured on sqlite before: 82M entries into the access check routine, most of them 1/2/4-byte
/// loads next to undefined neighbours and first stores into fresh blocks.
/// </summary>
[SupportedOSPlatform("linux")]
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed unsafe class ExactLaneCheck
{
    /// <summary>The largest access tested here: n lanes shifted by up to 3 lanes fit one shadow qword.</summary>
    public const int MaxSize = 29;

    private readonly ulong _table;

    /// <summary>
    /// Room for the shared tests (<see cref="TryEmitShared"/>), made on first use of each shape and
    /// size; carved with the lane table, before any fragment, from the region's sparse data (so within rel32 reach of all).
    /// </summary>
    public const int SharedPoolSize = 512 << 10;
    private readonly ulong _pool;
    private int _poolUsed;
    private readonly Dictionary<int, ulong> _shared = [];

    // HotLaneSites' entry counters (disp32) and the cache's exit, where a shared test leaves to promote its site.
    private readonly ulong _hotCounters, _exit;

    /// <summary>Lane masks for 1..<see cref="MaxSize"/> bytes (all bits, then high bits only) and the threaded byte, in the code region (RIP-relative reach of every stub).</summary>
    public ExactLaneCheck(CodeRegion region, ulong hotCounters, ulong exit)
    {
        _hotCounters = hotCounters;
        _exit = exit;
        _table = region.Allocate(2 * 8 * (MaxSize + 1) + 8, 64);
        var masks = new ulong[2 * (MaxSize + 1) + 1];
        for (int n = 1; n <= MaxSize; n++)
        {
            ulong all = (1UL << (2 * n)) - 1;
            masks[n] = all;
            masks[MaxSize + 1 + n] = all & 0xaaaa_aaaa_aaaa_aaaaUL;
        }
        CodeRegion.Write(_table, System.Runtime.InteropServices.MemoryMarshal.AsBytes(masks.AsSpan()));
        _pool = region.AllocateSparseData(SharedPoolSize);   // used from its start: small pages (see SharedCode)
        if (SlowPathProfile.Enabled) StubCounters = region.Allocate((8UL << 17) + 8 * EntryClasses, 64);
    }

    /// <summary>
    /// MEMCHECK_SLOW_PATH_PROFILE: the shared tests' entries, per site (2^17 counters in the code
    /// region, within disp32 reach) and then by size and cause (<see cref="EmitEntryProfile"/>).
    /// Such a run is not persisted (<see cref="MemoryCheckTool.TranslationKey"/>).
    /// </summary>
    public static ulong StubCounters { get; private set; }

    /// <summary>Counters per size class (1, 2, 4, 8, other) after the sites': reads then defines, each aligned with clean own lanes, aligned with some not clean, misaligned.</summary>
    public const int EntryClasses = 5 * 6;

    /// <summary>
    /// The profile's count of an entry into a shared test (flags free, t free, the address in the
    /// scratch and in gs:[CheckAddress]): by site, and whether the access was aligned (4 bytes for
    /// 4 and more) with its own lanes clean, i.e. only a neighbour's lane sent it here. On sqlite
    /// 70M of 97.6M entries were such (struct padding, fields not yet written beside read ones,
    /// fresh blocks' neighbours), 27M of them 1- and 2-byte accesses whose shadow byte they share.
    /// </summary>
    private static void EmitEntryProfile(CodeBuffer code, Register scratch, Register t, int probeBytes, bool define, int accessSize, ulong allLanes)
    {
        Register t32 = Register.EAX + (t - Register.RAX);
        var shadow = new MemoryOperand(scratch, Register.None, 1, 0, 0, false, Register.GS);
        code.Encode(Instruction.Create(Code.Mov_r32_rm32, t32, ContextOperand.Slot(MemcheckSlots.CheckSite)));
        code.Encode(Instruction.Create(Code.And_rm32_imm32, t32, (1 << 17) - 1));
        code.Encode(Instruction.Create(Code.Inc_rm64, new MemoryOperand(Register.None, t, 8, (long)StubCounters, 4, false, Register.None)));
        ulong classes = StubCounters + (8UL << 17) + (define ? 24UL : 0) + 48UL * (ulong)(accessSize switch { 1 => 0, 2 => 1, 4 => 2, 8 => 3, _ => 4 });
        code.Encode(Instruction.Create(Code.Test_rm64_imm32, scratch, accessSize >= 4 ? 3 : accessSize - 1));
        int misaligned = ShortJump(code, 0x75);
        code.Encode(Instruction.Create(Code.Lea_r32_m, t32, new MemoryOperand(scratch, scratch, 1, 0, 0, false, Register.None)));
        code.Encode(Instruction.Create(Code.And_rm32_imm8, t32, 6));
        code.Encode(Instruction.Create(Code.VEX_Shlx_r64_rm64_r64, t, new MemoryOperand(Register.RIP, Register.None, 1, (long)allLanes, 8, false, Register.None), t));
        code.Encode(Instruction.Create(Code.Shr_rm64_imm8, scratch, 2));
        code.Encode(Instruction.Create(Sized(probeBytes, Code.Test_rm8_r8, Code.Test_rm16_r16, Code.Test_rm32_r32, Code.Test_rm64_r64), shadow, Part(t, probeBytes)));
        int own = ShortJump(code, 0x75);
        code.Encode(Instruction.Create(Code.Inc_rm64, new MemoryOperand(Register.None, Register.None, 1, (long)classes, 4, false, Register.None)));
        int done1 = ShortJump(code, 0xEB);
        Patch(code, own);
        code.Encode(Instruction.Create(Code.Inc_rm64, new MemoryOperand(Register.None, Register.None, 1, (long)classes + 8, 4, false, Register.None)));
        int done2 = ShortJump(code, 0xEB);
        Patch(code, misaligned);
        code.Encode(Instruction.Create(Code.Inc_rm64, new MemoryOperand(Register.None, Register.None, 1, (long)classes + 16, 4, false, Register.None)));
        Patch(code, done1);
        Patch(code, done2);
        code.LoadSlot(scratch, MemcheckSlots.CheckAddress);
    }

    /// <summary>
    /// The stub of an unmasked fixed access whose size and kind are in its site's descriptor, as a
    /// jump to a test shared by every site of its shape and size (made on first use): the stub only
    /// saves the second register, stores the site and the resume point (the routine's jump-and-link
    /// return) and computes the address. The shared test stores the address (its failure goes
    /// straight on to the access check routine's site entry) and returns through gs:[LinkReturn].
    /// Per site this was the whole test and the routine's set-up, about 110 bytes; now 42 to 55
    /// (cc1plus: ~290,000 stubs). False when the pool is full: the caller emits the per-site stub.
    /// </summary>
    /// <param name="skipIfDirty">A define that leaves the lanes alone when this dirty bit is set (-1: none): see <see cref="EmitSkipIfDirty"/>.</param>
    public bool TryEmitShared(CodeBuffer code, CheckedAccess access, int siteId, Register scratch, bool flagsDead, int probeBytes,
        bool frameAligned, bool define, ulong resume, ulong fromSite, int skipIfDirty = -1)
    {
        Register t = flagsDead ? (scratch == Register.RAX ? Register.RDX : Register.RAX) : Register.RAX;
        // A spilled scratch is the stub's business (reloaded before the address, and at the resume point).
        int key = (scratch - Register.RAX) | (flagsDead ? 1 << 5 : 0) | (frameAligned ? 1 << 6 : 0)
            | (define ? 1 << 7 : 0) | System.Numerics.BitOperations.Log2((uint)probeBytes) << 8 | access.Size << 10 | (skipIfDirty + 1) << 17;
        if (!_shared.TryGetValue(key, out ulong shared) && !TryAddShared(key, access.Size, scratch, t, flagsDead, probeBytes, frameAligned, define, fromSite, skipIfDirty, out shared))
            return false;
        code.StoreSlot(MemcheckSlots.StubSaveRegister, t);
        code.SetSlot32(MemcheckSlots.CheckSite, siteId);
        code.SetSlot64(Engine.State.ContextOffsets.LinkReturn, checked((int)resume));
        access.EmitLea(code, scratch);
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, shared));
        return true;
    }

    // Apart from TryEmitShared: a lambda there captured its parameters, so every stub allocated the
    // closure (cc1plus: ~290,000 of them, 20% of what translation allocated), not only the first of a shape.
    private bool TryAddShared(int key, int accessSize, Register scratch, Register t, bool flagsDead, int probeBytes, bool frameAligned, bool define,
        ulong fromSite, int skipIfDirty, out ulong shared)
    {
        ulong at = _pool + (ulong)_poolUsed;
        CodeTemplate routine = CodeTemplate.Record(at, (c, fields) =>
            EmitShared(c, fields, scratch, t, flagsDead, probeBytes, frameAligned, define, define ? HighLanes(accessSize) : AllLanes(accessSize), ThreadedFlag, fromSite, skipIfDirty, accessSize, AllLanes(accessSize),
                _hotCounters, _exit));
        int size = (routine.Length + 15) & ~15;
        shared = 0;
        if (_poolUsed + size > SharedPoolSize) return false;
        CodeRegion.Write(at, routine.Bytes);
        _poolUsed += size;
        _shared.Add(key, shared = at);
        return true;
    }

    /// <summary>The shared test of <see cref="TryEmitShared"/>: as the per-site tail, but it stores the address and leaves through gs:[LinkReturn] or to the routine.</summary>
    private static void EmitShared(CodeBuffer code, CodeTemplate.Recorder fields, Register scratch, Register t, bool flagsDead, int probeBytes,
        bool frameAligned, bool define, ulong lanes, ulong threadedFlag, ulong fromSite, int skipIfDirty, int accessSize, ulong allLanes,
        ulong hotCounters, ulong exit)
    {
        code.StoreSlot(MemcheckSlots.CheckAddress, scratch);
        var shadow = new MemoryOperand(scratch, Register.None, 1, 0, 0, false, Register.GS);
        if (!flagsDead)
        {
            code.Encode(Instruction.Create(Code.Lahf));
            code.Encode(Instruction.Create(Code.Seto_rm8, Register.AL));
            code.StoreSlot(MemcheckSlots.StubSaveFlags, Register.RAX);
        }
        Register t32 = Register.EAX + (t - Register.RAX);
        if (StubCounters != 0) EmitEntryProfile(code, scratch, t, probeBytes, define, accessSize, allLanes);
        var fails = new List<int>(3);
        if (frameAligned)
        {
            code.Encode(Instruction.Create(Code.Test_rm64_imm32, scratch, 3));
            fails.Add(ShortJump(code, 0x75));
        }
        code.Encode(Instruction.Create(Code.Lea_r32_m, t32, new MemoryOperand(scratch, scratch, 1, 0, 0, false, Register.None)));
        code.Encode(Instruction.Create(Code.And_rm32_imm8, t32, 6));
        code.Encode(Instruction.Create(Code.VEX_Shlx_r64_rm64_r64, t, new MemoryOperand(Register.RIP, Register.None, 1, (long)lanes, 8, false, Register.None), t));
        code.Encode(Instruction.Create(Code.Shr_rm64_imm8, scratch, 2));
        code.Encode(Instruction.Create(Sized(probeBytes, Code.Test_rm8_r8, Code.Test_rm16_r16, Code.Test_rm32_r32, Code.Test_rm64_r64), shadow, Part(t, probeBytes)));
        fails.Add(ShortJump(code, 0x75));
        int skip = define && skipIfDirty >= 0 ? EmitSkipIfDirty(code, skipIfDirty) : -1;
        if (define)
        {
            code.Encode(Instruction.Create(Code.Cmp_rm8_imm8, new MemoryOperand(Register.RIP, Register.None, 1, (long)threadedFlag, 8, false, Register.None), 0));
            fails.Add(ShortJump(code, 0x75));
            code.Encode(Instruction.Create(Code.Shr_rm64_imm8, t, 1));
            code.Encode(Instruction.Create(Code.Not_rm64, t));
            code.Encode(Instruction.Create(Sized(probeBytes, Code.And_rm8_r8, Code.And_rm16_r16, Code.And_rm32_r32, Code.And_rm64_r64), shadow, Part(t, probeBytes)));
        }
        if (skip >= 0) Patch(code, skip);
        int hot = EmitEntryCount(code, scratch, hotCounters);
        Restore(code, t, flagsDead);
        code.Encode(Instruction.Create(Code.Jmp_rm64, ContextOperand.Slot(Engine.State.ContextOffsets.LinkReturn)));
        foreach (int fail in fails) Patch(code, fail);
        Restore(code, t, flagsDead);
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, fromSite));
        // The site's 4,096th entry: its job done, it leaves so that its fragment is translated again
        // with a test of its own; the dispatcher resumes at gs:[LinkReturn].
        Patch(code, hot);
        Restore(code, t, flagsDead);
        code.SetSlot32(MemcheckSlots.ToolExitReason, ToolExitReasons.HotLanes);
        code.SetSlot32(Engine.State.ContextOffsets.ExitId, Engine.Emission.ExitIds.ToolExit);
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, exit));
    }

    /// <summary>
    /// Counts the entry in <see cref="HotLaneSites"/>' counter of the site (the scratch is free once
    /// the test is done: the resume point reloads a spilled one); returns the field of the jump taken
    /// when the counter carries out.
    /// </summary>
    private static int EmitEntryCount(CodeBuffer code, Register scratch, ulong hotCounters)
    {
        Register s32 = Register.EAX + (scratch - Register.RAX);
        code.Encode(Instruction.Create(Code.Mov_r32_rm32, s32, ContextOperand.Slot(MemcheckSlots.CheckSite)));
        code.Encode(Instruction.Create(Code.And_rm32_imm32, s32, HotLaneSites.Capacity - 1));
        code.Encode(Instruction.Create(Code.Add_rm32_imm32, new MemoryOperand(Register.None, scratch, 4, (long)hotCounters, 4, false, Register.None),
            HotLaneSites.Increment));
        return ShortJump(code, 0x72);   // jc
    }

    /// <summary>
    /// The inline probe of a site that entered its shared test often (<see cref="HotLaneSites"/>),
    /// with dead flags and a dead scratch: its own lanes at once, so that a neighbour's undefined or
    /// unaddressable lane no longer sends it out of line (sqlite: 70M of its 97.6M entries):
    /// <code>
    ///   mov ctx[StubSaveRegister], t ; lea s, [operand] ; lea t, [s + s] ; and t, 6
    ///   shlx t, [rip + lanes(n)], t ; shr s, 2 ; test gs:[s], t ; mov t, ctx[StubSaveRegister]
    /// </code>
    /// The caller's jnz goes to the site's stub, whose own test decides again (lanes to define, or
    /// the routine). Four more instructions than the covering probe on every run of the site.
    /// </summary>
    public void EmitInlineProbe(CodeBuffer code, CheckedAccess access, Register scratch, int probeBytes)
    {
        Register t = scratch == Register.RAX ? Register.RDX : Register.RAX;
        Register t32 = Register.EAX + (t - Register.RAX);
        code.StoreSlot(MemcheckSlots.StubSaveRegister, t);
        access.EmitLea(code, scratch);
        code.Encode(Instruction.Create(Code.Lea_r32_m, t32, new MemoryOperand(scratch, scratch, 1, 0, 0, false, Register.None)));
        code.Encode(Instruction.Create(Code.And_rm32_imm8, t32, 6));
        code.Encode(Instruction.Create(Code.VEX_Shlx_r64_rm64_r64, t, new MemoryOperand(Register.RIP, Register.None, 1, (long)AllLanes(access.Size), 8, false, Register.None), t));
        code.Encode(Instruction.Create(Code.Shr_rm64_imm8, scratch, 2));
        code.Encode(Instruction.Create(Sized(probeBytes, Code.Test_rm8_r8, Code.Test_rm16_r16, Code.Test_rm32_r32, Code.Test_rm64_r64),
            new MemoryOperand(scratch, Register.None, 1, 0, 0, false, Register.GS), Part(t, probeBytes)));
        code.LoadSlot(t, MemcheckSlots.StubSaveRegister);
    }

    private ulong AllLanes(int size) => _table + 8UL * (ulong)size;
    private ulong HighLanes(int size) => _table + 8UL * (ulong)(MaxSize + 1 + size);
    private ulong ThreadedFlag => _table + 8UL * (ulong)(2 * (MaxSize + 1));

    /// <summary>What a snapshot holds of the shared tests' pool: its used bytes and each shape's test.</summary>
    public sealed record Snapshot(byte[] Bytes, (int Key, ulong At)[] Shared);

    /// <summary>The shared tests (persisted code jumps to them), for the next run.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(_poolUsed);
        writer.Write(new ReadOnlySpan<byte>((void*)_pool, _poolUsed));
        writer.Write(_shared.Count);
        foreach ((int key, ulong at) in _shared)
        {
            writer.Write(key);
            writer.Write(at);
        }
    }

    public Snapshot Read(BinaryReader reader)
    {
        int used = reader.ReadInt32();
        if (used < 0 || used > SharedPoolSize) throw new InvalidDataException("exact lanes: used bytes");
        byte[] bytes = reader.ReadBytes(used);
        if (bytes.Length != used) throw new EndOfStreamException();
        int count = reader.ReadInt32();
        if (count < 0 || count > used) throw new InvalidDataException("exact lanes: entries");
        var shared = new (int, ulong)[count];
        for (int i = 0; i < count; i++)
        {
            shared[i] = (reader.ReadInt32(), reader.ReadUInt64());
            if (shared[i].Item2 < _pool || shared[i].Item2 >= _pool + (ulong)used) throw new InvalidDataException("exact lanes: test outside the pool");
        }
        return new Snapshot(bytes, shared);
    }

    /// <summary>Puts the shared tests back (before any translation; the lane table and threaded flag are this run's).</summary>
    public void Restore(Snapshot snapshot)
    {
        if (_poolUsed != 0) throw new InvalidOperationException("the shared tests' pool is in use already");
        CodeRegion.Write(_pool, snapshot.Bytes);
        _poolUsed = snapshot.Bytes.Length;
        foreach ((int key, ulong at) in snapshot.Shared) _shared[key] = at;
    }

    /// <summary>From now on, defining stores leave it to the routine (call when a second thread starts).</summary>
    public void ProgramIsThreaded() => *(byte*)ThreadedFlag = 1;

    /// <summary>Whether <see cref="Emit"/> applies: one unmasked operand (or a merged range) within one probe.</summary>
    public static bool Applies(AccessSite site) =>
        site.Access.OpMask == Register.None && site.Access.Extent == AccessExtent.Fixed && site.Access.Size is >= 1 and <= MaxSize && !site.Vsib;

    /// <summary>
    /// Emits the exact test; falls through to what follows (the routine's set-up) when it fails, with
    /// every register but the scratch holding the guest's value again and the scratch reloaded if spilled.
    /// </summary>
    /// <param name="probeBytes">The inline probe's width in shadow bytes (1, 2, 4 or 8).</param>
    /// <param name="frameAligned">The inline probe covered exactly size / 4 shadow bytes from the address's (an rsp-relative frame access): only a 4-aligned address is tested here.</param>
    /// <param name="skipIfDirty">With <see cref="LaneAction.Define"/>: this dirty bit set leaves the lanes alone (-1: none), see <see cref="EmitSkipIfDirty"/>.</param>
    public void Emit(CodeBuffer code, CheckedAccess access, Register scratch, bool spilled, bool flagsDead, int probeBytes, bool frameAligned, LaneAction action, ulong resume,
        int skipIfDirty = -1)
    {
        bool define = action == LaneAction.Define, pending = action == LaneAction.Pending;
        Register t = flagsDead ? (scratch == Register.RAX ? Register.RDX : Register.RAX) : Register.RAX;
        code.StoreSlot(MemcheckSlots.StubSaveRegister, t);
        access.EmitLea(code, scratch);
        // What follows the address depends only on the shape: copied from its template, with the
        // lane table's, the threaded flag's and the resume point's displacements patched.
        int key = (scratch - Register.RAX) | (spilled ? 1 << 4 : 0) | (flagsDead ? 1 << 5 : 0) | (frameAligned ? 1 << 6 : 0)
            | (define ? 1 << 7 : 0) | System.Numerics.BitOperations.Log2((uint)probeBytes) << 8 | (pending ? 1 << 10 : 0) | (define && skipIfDirty >= 0 ? 1 << 11 : 0);
        CodeTemplate tail = _tails[key] ?? RecordTail(key, scratch, t, spilled, flagsDead, probeBytes, frameAligned, action, define && skipIfDirty >= 0);
        Span<ulong> arguments = [action != LaneAction.Routine ? HighLanes(access.Size) : AllLanes(access.Size), ThreadedFlag, resume, 1UL << Math.Max(skipIfDirty, 0)];
        tail.CopyTo(code, arguments);
    }

    // By scratch, spilled, flags dead, frame-aligned, define, the probe's width, pending and skip-if-dirty.
    private readonly CodeTemplate?[] _tails = new CodeTemplate?[64 << 6];

    private CodeTemplate RecordTail(int key, Register scratch, Register t, bool spilled, bool flagsDead, int probeBytes, bool frameAligned, LaneAction action, bool skipIfDirty) =>
        _tails[key] = CodeTemplate.Record(_table, (code, fields) =>
            EmitTail(code, fields, scratch, t, spilled, flagsDead, probeBytes, frameAligned, action, HighLanes(1), ThreadedFlag, code.BaseAddress, skipIfDirty));

    /// <summary>
    /// A copy's store of a dirty register (its bit in <paramref name="bit"/>) into lanes that are only
    /// defined or undefined: its pre-check runs the move routine next, which writes every lane, so the
    /// define is skipped. Returns the jnz's rel8 to patch to the define's end (flags are free here).
    /// </summary>
    private static int EmitSkipIfDirty(CodeBuffer code, int bit, CodeTemplate.Recorder? maskField = null)
    {
        code.Encode(Instruction.Create(Code.Test_rm64_imm32, ContextOperand.Slot(MemcheckSlots.Dirty), 1 << bit));
        maskField?.Immediate(3);
        return ShortJump(code, 0x75);
    }

    /// <summary>The test after the address is in the scratch; arguments: 0 the lane mask's address, 1 the threaded flag's, 2 the resume point, 3 the stored register's dirty mask.</summary>
    private static void EmitTail(CodeBuffer code, CodeTemplate.Recorder fields, Register scratch, Register t, bool spilled, bool flagsDead, int probeBytes,
        bool frameAligned, LaneAction action, ulong lanes, ulong threadedFlag, ulong resume, bool skipIfDirty)
    {
        bool define = action == LaneAction.Define;
        var shadow = new MemoryOperand(scratch, Register.None, 1, 0, 0, false, Register.GS);
        if (!flagsDead)
        {
            code.Encode(Instruction.Create(Code.Lahf));
            code.Encode(Instruction.Create(Code.Seto_rm8, Register.AL));
            code.StoreSlot(MemcheckSlots.StubSaveFlags, Register.RAX);
        }
        var fails = new List<int>(3);
        if (frameAligned)
        {
            code.Encode(Instruction.Create(Code.Test_rm64_imm32, scratch, 3));
            fails.Add(ShortJump(code, 0x75));
        }
        Register t32 = Register.EAX + (t - Register.RAX);
        code.Encode(Instruction.Create(Code.Lea_r32_m, t32, new MemoryOperand(scratch, scratch, 1, 0, 0, false, Register.None)));
        code.Encode(Instruction.Create(Code.And_rm32_imm8, t32, 6));
        code.Encode(Instruction.Create(Code.VEX_Shlx_r64_rm64_r64, t, new MemoryOperand(Register.RIP, Register.None, 1, (long)lanes, 8, false, Register.None), t));
        fields.Relative(0);
        code.Encode(Instruction.Create(Code.Shr_rm64_imm8, scratch, 2));
        code.Encode(Instruction.Create(Sized(probeBytes, Code.Test_rm8_r8, Code.Test_rm16_r16, Code.Test_rm32_r32, Code.Test_rm64_r64), shadow, Part(t, probeBytes)));
        fails.Add(ShortJump(code, 0x75));
        int skip = -1;
        if (define && skipIfDirty)
        {
            skip = EmitSkipIfDirty(code, 30, fields);   // the mask is the template's argument 3
        }
        if (define)
        {
            // Once the program has a second thread, the routine defines them (with aligned locked
            // qwords): the window here is unaligned, and a locked `and` across a cache line is a split
            // lock, which the kernel traps and throttles (xz -T2 crawled at milliseconds per store).
            code.Encode(Instruction.Create(Code.Cmp_rm8_imm8, new MemoryOperand(Register.RIP, Register.None, 1, (long)threadedFlag, 8, false, Register.None), 0));
            fields.Relative(1, trailing: 1);
            fails.Add(ShortJump(code, 0x75));
            code.Encode(Instruction.Create(Code.Shr_rm64_imm8, t, 1));
            code.Encode(Instruction.Create(Code.Not_rm64, t));
            code.Encode(Instruction.Create(Sized(probeBytes, Code.And_rm8_r8, Code.And_rm16_r16, Code.And_rm32_r32, Code.And_rm64_r64), shadow, Part(t, probeBytes)));
        }
        if (skip >= 0) Patch(code, skip);
        if (action == LaneAction.Pending)
        {
            // No lane partly defined or unaddressable: undefined ones (01, the high bits shifted to the
            // low ones) make the instruction's propagation take them into account, as the routine does.
            code.Encode(Instruction.Create(Code.Shr_rm64_imm8, t, 1));
            code.Encode(Instruction.Create(Sized(probeBytes, Code.Test_rm8_r8, Code.Test_rm16_r16, Code.Test_rm32_r32, Code.Test_rm64_r64), shadow, Part(t, probeBytes)));
            code.Byte(0x74);   // jz: all defined (a neighbour's lane sent it here)
            int allDefined = code.Length;
            code.Byte(0);
            code.Encode(Instruction.Create(Code.Or_rm8_imm8, ContextOperand.Slot(MemcheckSlots.Dirty + Definedness.ShadowRegisters.PendingBit / 8), 1 << (Definedness.ShadowRegisters.PendingBit % 8)));
            Patch(code, allDefined);
        }
        Restore(code, t, flagsDead);
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, resume));
        fields.Relative(2);
        foreach (int fail in fails) Patch(code, fail);
        Restore(code, t, flagsDead);
        if (spilled) code.LoadSlot(scratch, MemcheckSlots.CheckSaveRcx);
    }

    private static void Restore(CodeBuffer code, Register t, bool flagsDead)
    {
        if (!flagsDead)
        {
            code.LoadSlot(Register.RAX, MemcheckSlots.StubSaveFlags);
            code.Encode(Instruction.Create(Code.Add_rm8_imm8, Register.AL, 0x7f));   // OF again iff seto stored 1
            code.Encode(Instruction.Create(Code.Sahf));
        }
        code.LoadSlot(t, MemcheckSlots.StubSaveRegister);
    }

    private static Code Sized(int bytes, Code b, Code w, Code d, Code q) => bytes switch { 1 => b, 2 => w, 4 => d, _ => q };

    private static Register Part(Register full, int bytes)
    {
        int n = full - Register.RAX;
        return bytes switch { 1 => Register.AL + n, 2 => Register.AX + n, 4 => Register.EAX + n, _ => full };
    }

    // A jcc/jmp rel8 patched later (the paths here are short); returns the displacement's offset.
    private static int ShortJump(CodeBuffer code, byte opcode)
    {
        code.Byte(opcode);
        code.Byte(0);
        return code.Length - 1;
    }

    private static void Patch(CodeBuffer code, int field) => code.PatchByte(field, checked((byte)(code.Length - (field + 1))));
}

/// <summary>What an exact lane test does beyond sending a failing access to the routine.</summary>
public enum LaneAction
{
    /// <summary>Any lane not 00 goes to the routine.</summary>
    Routine,
    /// <summary>A write-only store of mode-0 code: its 00/01 lanes defined in place (single-threaded), else the routine.</summary>
    Define,
    /// <summary>
    /// The propagating mode: 00/01 lanes set the pending bit when one is 01 (the instruction's
    /// propagation, which runs next, sets or reads them), anything else goes to the routine.
    /// </summary>
    Pending,
}
