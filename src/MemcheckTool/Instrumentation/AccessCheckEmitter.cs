using Checker.MemcheckTool.State;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// Emits the inline check of an instruction's memory accesses and, out of line after the fragment
/// body, each access's slow-path stub. The inline part borrows one register, the scratch: a
/// register that is dead there (<see cref="Liveness"/>), else rcx spilled to gs:[CheckSaveRcx].
/// When the flags are dead it is
/// <code>
///   lea  s, [operand]              ; the address
///   shr  s, 2                      ; its shadow index
///   cmp  word fs:[s], 0            ; the shadow covering the access (fs = shadow base)
///   jne  stub                      ; not all addressable and defined: the slow path decides
/// </code>
/// and when they are live, flag-free with rcx:
/// <code>
///   lea  rcx, [operand]
///   pext rcx, rcx, gs:[ShadowIndexMask]
///   movzx ecx, word fs:[rcx]
///   jrcxz resume
///   jmp  stub
/// resume:
/// </code>
/// then the spilled scratch (if any) is reloaded and the instruction follows. The shadow loaded
/// is the whole shadow byte/word/dword/qword that covers the access from its 4-byte-aligned
/// start, so it may include neighbours: a non-zero value only means "look closer". The stub
/// stores the exact address, size, mask and site and jumps (jump-and-link: the return address is
/// in gs:[CheckReturn]) to <see cref="AccessCheckRoutine"/>, which checks byte by byte and leaves
/// the cache only for a real error. A shift of an address past the 47-bit user space reads some
/// other memory (or faults, as the access itself would): the routine lets such addresses pass.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class AccessCheckEmitter(MemcheckRoutines routines)
{
    private readonly AccessSiteTable sites = routines.Sites;
    private readonly ulong checkRoutine = routines.AccessCheck, stringRoutine = routines.StringCheck;
    private readonly ExactLaneCheck exactLanes = routines.ExactLanes;
    private readonly List<PendingStub> _pending = [];

    /// <summary>An inline probe's jump to its site's stub, emitted after the fragment body.</summary>
    private struct PendingStub(AccessSite site, int jumpField, Register scratch, bool spilled, bool flagsDead, bool storeSetsLanes = false, bool inPlace = false, int storedDirtyBit = -1, bool always = false)
    {
        public readonly AccessSite Site = site;
        /// <summary>Entered at every run of its instruction (a string instruction's or a large operand's whole walk): made with the fragment, never lazily.</summary>
        public readonly bool Always = always;
        public readonly int JumpField = jumpField;
        public readonly Register Scratch = scratch;
        public readonly bool Spilled = spilled, FlagsDead = flagsDead, StoreSetsLanes = storeSetsLanes, InPlace = inPlace;
        public readonly int StoredDirtyBit = storedDirtyBit;
        public ulong Resume;
    }
    /// <summary>The largest operand checked inline (a zmm register's 64 bytes: three probes).</summary>
    public const int MaxInlineSize = 64;

    // repe/repne cmps/scas sites of the instruction being emitted, checked after it (EmitAfter).
    private readonly List<AccessSite> _after = [];

    /// <summary>
    /// Whether the stubs ask the routine for definedness (<see cref="CheckKinds"/>): mode-0 code, where
    /// every register is defined, so a store defines what it writes and an undefined read must switch modes.
    /// </summary>
    public bool TrackDefinedness { get; set; }
    /// <summary>The propagating mode: undefined reads mark the instruction for propagation instead of switching modes.</summary>
    public bool Propagating { get; set; }
    /// <summary>The block's mode, for <see cref="CodeSizeProfile"/> only.</summary>
    public int Mode { get; set; }

    /// <summary>
    /// The instruction whose checks come next is propagated right after them (the propagating mode,
    /// or a copy of the plain mode, <see cref="Definedness.PropagationEmitter.FindPlainCopies"/>): its
    /// undefined reads set the pending bit (<see cref="CheckKinds.InPlace"/>) instead of switching modes.
    /// </summary>
    public bool PropagatesHere { get; set; }

    /// <summary>
    /// The propagating mode, for the instruction whose checks come next: a plain store from a register
    /// that <see cref="Definedness.ShadowMoveRoutine"/> does, which sets every lane it writes (defined
    /// or not) whenever its pre-check hits. Its check then only sets the pending bit over undefined
    /// lanes (<see cref="LaneAction.Pending"/>) instead of having the routine define them first.
    /// </summary>
    public bool StoreSetsLanes { get; set; }

    /// <summary>
    /// The plain mode, for the instruction whose checks come next: a copy's store of a register whose
    /// dirty bit this is (else -1). Its pre-check runs the move routine when the register is dirty,
    /// which sets every lane it writes; the stub's define of fresh lanes is then skipped (sort stores
    /// undefined registers over undefined lanes: the define and then the routine undid it).
    /// </summary>
    public int StoredDirtyBit { get; set; } = -1;

    /// <summary>Forgets stubs of a previous fragment (call when a translation starts).</summary>
    public void Reset()
    {
        _pending.Clear();
        _after.Clear();
    }

    /// <summary>
    /// The inline checks of <paramref name="accesses"/>, placed right before the instruction at
    /// <paramref name="pc"/>; <paramref name="freeRegister"/> is dead there (or None) and
    /// <paramref name="flagsDead"/> says whether the status flags are.
    /// </summary>
    public void EmitChecks(CodeBuffer code, ulong pc, IReadOnlyList<PlannedCheck> accesses, Register freeRegister = Register.None, bool flagsDead = false)
    {
        if (accesses.Count == 0) return;
        // jrcxz needs rcx when the flags are live; any dead register does when they are not.
        Register scratch = flagsDead && freeRegister != Register.None ? freeRegister : Register.RCX;
        bool spilled = scratch != freeRegister;
        int mark = code.Length;
        if (spilled) code.StoreSlot(MemcheckSlots.CheckSaveRcx, scratch);
        Profile(CodeSizeProfile.Kind.CheckSpill, code, ref mark);
        bool scratchIsGuest = true;
        Span<(long Offset, int ShadowBytes)> probes = stackalloc (long, int)[MaxProbes];
        // Indexed, not foreach: an interface's enumerator is an object per instruction.
        for (int c = 0; c < accesses.Count; c++)
        {
            PlannedCheck check = accesses[c];
            CheckedAccess access = check.Access;
            // A held scratch (and any other register held in this run) is given back by the dispatcher
            // when a switch to the propagating mode leaves the fragment; a spilled rcx by the switch.
            AccessSite site = sites.Add(pc, access, check.Parts, scratch, spilled ? MemcheckSlots.CheckSaveRcx : 0);
            if (DefinesInline(check))
            {
                Profile(CodeSizeProfile.Kind.CheckOther, code, ref mark);
                EmitDefinedOutright(code, access, scratch, flagsDead);
                Profile(CodeSizeProfile.Kind.FrameDefine, code, ref mark);
                scratchIsGuest = false;
                continue;
            }
            int first = _pending.Count;
            if (access.Extent == AccessExtent.CountedAfter)
            {
                // Before it runs: the count and the pointer (rcx and the pointers are guest values here).
                if (_after.Count == 0) code.StoreSlot(MemcheckSlots.StringCountBefore, Register.RCX);
                code.StoreSlot(PointerSlot(access), access.Base.Full());
                _after.Add(site);
                continue;
            }
            if (access.Extent == AccessExtent.RepeatCount || access.Size > MaxInlineSize)
            {
                // A run (its stub takes it a shadow qword at a time first, RepeatedAccessCheck, which may
                // use dead flags), or an operand too large for a few probes (fxsave's 512 bytes): the slow path walks it.
                bool stubFlagsDead = flagsDead && access.Extent == AccessExtent.RepeatCount;
                _pending.Add(new PendingStub(site, JumpToStub(code), scratch, spilled, stubFlagsDead, false, PropagatesHere, always: true));
            }
            else
            {
                bool frameAligned = FrameAligned(access);
                int probeCount = frameAligned ? AlignedProbes(access.Size, probes) : FillProbes(access.Size, probes);
                if (flagsDead && !spilled && !frameAligned && probeCount == 1 && ExactLaneCheck.Applies(site) && routines.HotLanes.Contains(pc))
                {
                    // A site whose neighbours' lanes kept sending it to its stub: its own lanes inline.
                    exactLanes.EmitInlineProbe(code, access, scratch, probes[0].ShadowBytes);
                    scratchIsGuest = false;
                    _pending.Add(new PendingStub(site, JumpIfNotZero(code), scratch, spilled, flagsDead, StoreSetsLanes, PropagatesHere, StoredDirtyBit));
                    Profile(CodeSizeProfile.Kind.CheckProbe, code, ref mark);
                    probeCount = 0;
                }
                foreach ((long offset, int width) in probes[..probeCount])
                {
                    if (AbsoluteShadowIndex(access, offset) is int index)
                    {
                        // A global: its shadow's address is a constant, no address to compute (the stub computes its own).
                        Profile(CodeSizeProfile.Kind.CheckOther, code, ref mark);
                        code.Encode(flagsDead ? CompareShadow(Register.None, width, index) : LoadShadow(width, index));
                        if (!flagsDead) code.Raw([0xE3, 0x05]);   // jrcxz over the 5-byte jmp to the stub
                        _pending.Add(new PendingStub(site, flagsDead ? JumpIfNotZero(code) : JumpToStub(code), scratch, spilled, flagsDead, StoreSetsLanes, PropagatesHere, StoredDirtyBit));
                        Profile(CodeSizeProfile.Kind.CheckProbe, code, ref mark);
                        continue;
                    }
                    Profile(CodeSizeProfile.Kind.CheckOther, code, ref mark);
                    if (!scratchIsGuest && spilled && Uses(access, scratch)) code.LoadSlot(scratch, MemcheckSlots.CheckSaveRcx);
                    Profile(CodeSizeProfile.Kind.CheckSpill, code, ref mark);
                    access.EmitLea(code, scratch, offset);
                    scratchIsGuest = false;
                    code.Raw(ProbeTail(scratch, width, flagsDead));
                    _pending.Add(new PendingStub(site, flagsDead ? JumpIfNotZero(code) : JumpToStub(code), scratch, spilled, flagsDead, StoreSetsLanes, PropagatesHere, StoredDirtyBit));
                    Profile(CodeSizeProfile.Kind.CheckProbe, code, ref mark);
                }
            }
            ulong resume = code.CurrentAddress;
            Span<PendingStub> pending = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending);
            for (int i = first; i < pending.Length; i++) pending[i].Resume = resume;
        }
        Profile(CodeSizeProfile.Kind.CheckOther, code, ref mark);
        if (spilled) code.LoadSlot(scratch, MemcheckSlots.CheckSaveRcx);
        Profile(CodeSizeProfile.Kind.CheckSpill, code, ref mark);
    }

    private void Profile(CodeSizeProfile.Kind kind, CodeBuffer code, ref int mark)
    {
        if (!CodeSizeProfile.Enabled) return;
        CodeSizeProfile.Add(kind, Mode, code.Length - mark);
        mark = code.Length;
    }

    /// <summary>A frame store of mode-0 code: nothing to check, its lanes defined outright (apart: its temporaries would widen every check's frame).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void EmitDefinedOutright(CodeBuffer code, CheckedAccess access, Register scratch, bool flagsDead)
    {
        access.EmitLea(code, scratch);
        code.Encode(flagsDead
            ? Instruction.Create(Code.Shr_rm64_imm8, scratch, 2)
            : Instruction.Create(Code.VEX_Pext_r64_r64_rm64, scratch, scratch, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
        EmitDefine(code, scratch, access.Size / 4);
    }

    /// <summary>
    /// Right after the instruction: the repe/repne cmps/scas checks, over the elements it compared
    /// (all inline: such code is rare). rcx is borrowed through gs:[CheckSaveRcx].
    /// </summary>
    public void EmitAfter(CodeBuffer code)
    {
        // Apart from the loop: its frame of Instruction values was set up for every instruction translated.
        if (_after.Count != 0) EmitStringChecksAfter(code);
    }

    private void EmitStringChecksAfter(CodeBuffer code)
    {
        foreach (AccessSite site in _after)
        {
            code.StoreSlot(MemcheckSlots.StringCountAfter, Register.RCX);
            code.StoreSlot(MemcheckSlots.CheckSaveRcx, Register.RCX);
            code.LoadSlot(Register.RCX, PointerSlot(site.Access));
            code.StoreSlot(MemcheckSlots.CheckAddress, Register.RCX);
            code.LoadSlot(Register.RCX, MemcheckSlots.CheckSaveRcx);
            code.SetSlot32(MemcheckSlots.CheckStringElement, site.Access.Size);
            code.SetSlot64(MemcheckSlots.CheckMask, -1);
            code.SetSlot32(MemcheckSlots.CheckElementShift, 63);
            code.SetSlot32(MemcheckSlots.CheckSite, site.Id);
            // After the instruction ran: too late to propagate from it, addressability only.
            code.SetSlot32(MemcheckSlots.CheckKind, CheckKinds.AddressOnly);
            JumpAndLink.Emit(code, stringRoutine);
        }
        _after.Clear();
    }

    private static int PointerSlot(CheckedAccess access) =>
        access.Base.Full() == Register.RSI ? MemcheckSlots.StringSiBefore : MemcheckSlots.StringDiBefore;

    /// <summary>
    /// After the fragment body: one stub per access site, or its lazy stub (<see cref="LazyStubs"/>),
    /// and the body's jumps patched to them.
    /// </summary>
    public void EmitStubs(CodeBuffer code)
    {
        int previous = -1;
        ulong stub = 0;
        ulong[]? lazy = routines.LazyStubRoutines;
        foreach (ref readonly PendingStub pending in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending))
        {
            if (pending.Site.Id != previous)
            {
                var parameters = new LazyStubs.Parameters(pending.Site.Id, pending.Resume, pending.Scratch, pending.Spilled,
                    pending.FlagsDead, pending.StoreSetsLanes, pending.InPlace, pending.StoredDirtyBit, Mode);
                if (lazy != null && !pending.Always && LazyStubs.Fits(parameters, code.CurrentAddress))
                {
                    int mark = code.Length;
                    stub = LazyStubs.Emit(code, parameters, lazy);
                    Profile(CodeSizeProfile.Kind.StubLazy, code, ref mark);
                }
                else
                {
                    stub = code.CurrentAddress;
                    EmitStub(code, pending.Site, pending.Resume, pending.Scratch, pending.Spilled, pending.FlagsDead, pending.StoreSetsLanes, pending.InPlace, pending.StoredDirtyBit);
                }
                previous = pending.Site.Id;
            }
            code.PatchRel32(pending.JumpField, stub);
        }
        _pending.Clear();
    }

    private CodeBuffer? _made;

    /// <summary>
    /// The stub the lazy stub at <paramref name="lazyStub"/> stands for, made at the end of
    /// <paramref name="region"/> as its fragment's translation would have made it, and the lazy stub
    /// turned into a jump to it; its address. Under the cache's lock (no translation under way). The
    /// emitter's mode is the lazy stub's for the while.
    /// </summary>
    public ulong Materialize(ulong lazyStub, CodeRegion region)
    {
        if (LazyStubs.IsMade(lazyStub)) return lazyStub;   // another thread made it first
        LazyStubs.Parameters p = LazyStubs.Read(lazyStub);
        (bool propagating, int mode, CodeBuffer? profiled) = (Propagating, Mode, CodeSizeProfile.Buffer);
        Propagating = p.Mode == Definedness.DefinednessMode.Propagating;
        Mode = p.Mode;
        try
        {
            CodeBuffer code = _made ??= new CodeBuffer(0);
            code.Reset(region.Peek(16));
            if (CodeSizeProfile.Enabled) CodeSizeProfile.Buffer = code;
            EmitStub(code, sites[p.Site], p.Resume, p.Scratch, p.Spilled, p.FlagsDead, p.StoreSetsLanes, p.InPlace, p.StoredDirtyBit);
            ulong at = region.Allocate((ulong)code.Length, 16);
            if (at != code.BaseAddress) throw new InvalidOperationException("the code region moved under a stub being made");
            CodeRegion.Write(at, code.Bytes);
            if (Engine.Translation.BlockTranslator.Trace)
                Console.Error.WriteLine($"memcheck-trace: routine stub of site {p.Site} at 0x{at:x}+{code.Length} {Convert.ToHexString(code.Bytes)}");
            LazyStubs.Redirect(lazyStub, at);
            return at;
        }
        finally
        {
            (Propagating, Mode, CodeSizeProfile.Buffer) = (propagating, mode, profiled);
        }
    }

    // The scratch register is free here (the resume point reloads it if it was spilled); every
    // other register holds the guest's value, so the operand can be evaluated again.
    private void EmitStub(CodeBuffer code, AccessSite site, ulong resume, Register scratch, bool spilled, bool flagsDead, bool storeSetsLanes, bool inPlace, int storedDirtyBit)
    {
        CheckedAccess access = site.Access;
        int mark = code.Length;
        if (spilled) code.LoadSlot(scratch, MemcheckSlots.CheckSaveRcx);
        if (ExactLaneCheck.Applies(site))
        {
            bool frameAligned = FrameAligned(access);
            int probeBytes = frameAligned ? access.Size / 4 : FirstProbeBytes(access.Size);
            LaneAction action = SetsPending(site, inPlace, storeSetsLanes) ? LaneAction.Pending : DefinesFreshBytes(site) ? LaneAction.Define : LaneAction.Routine;
            int skipIfDirty = action == LaneAction.Define ? storedDirtyBit : -1;
            // The shared tests define or hand over; setting the pending bit stays per site, and so
            // does the test of a site that entered its shared one often (HotLaneSites).
            if (action != LaneAction.Pending && !routines.HotLanes.Contains(site.Pc) && sites.Describe(site.Id, access.Size, KindOf(site, inPlace))
                && exactLanes.TryEmitShared(code, access, site.Id, scratch, flagsDead, probeBytes, frameAligned, action == LaneAction.Define, resume,
                    routines.AccessCheckFromSite, skipIfDirty))
            {
                Profile(CodeSizeProfile.Kind.StubExactLanes, code, ref mark);
                return;
            }
            exactLanes.Emit(code, access, scratch, spilled, flagsDead, probeBytes, frameAligned, action, resume, skipIfDirty);
        }
        Profile(CodeSizeProfile.Kind.StubExactLanes, code, ref mark);
        if (RepeatedAccessCheck.Applies(site))
        {
            RepeatedAccessCheck.Emit(code, access, scratch, spilled, flagsDead, KindOf(site, inPlace), resume);
            Profile(CodeSizeProfile.Kind.StubOther, code, ref mark);
        }
        EmitStubHandOver(code, site, access, resume, scratch, inPlace);
        Profile(CodeSizeProfile.Kind.StubSetup, code, ref mark);
    }

    private void EmitStubHandOver(CodeBuffer code, AccessSite site, CheckedAccess access, ulong resume, Register scratch, bool inPlace)
    {
        if (access.Extent == AccessExtent.Fixed && sites.Describe(site.Id, access.Size, KindOf(site, inPlace)))
        {
            // Size and kind are in the site's descriptor: the address, the site and the return suffice.
            access.EmitLea(code, scratch);
            bool masked = access.OpMask != Register.None;
            if (!masked)
            {
                // The rest depends only on the scratch: copied, with the site, the return and the routine patched.
                CodeTemplate setup = _siteSetups[scratch - Register.RAX] ?? RecordSiteSetup(scratch);
                setup.CopyTo(code, [(ulong)site.Id, resume, routines.AccessCheckFromSite]);
                return;
            }
            code.StoreSlot(MemcheckSlots.CheckAddress, scratch);
            if (masked) StoreMask(code, access, scratch);
            code.SetSlot32(MemcheckSlots.CheckSite, site.Id);
            code.SetSlot64(ContextOffsets.LinkReturn, checked((int)resume));
            code.Raw([0xE9]);
            code.Int32(Rel32.Displacement(code.CurrentAddress + 4, masked ? routines.AccessCheckFromMaskedSite : routines.AccessCheckFromSite));
            return;
        }
        if (access.Extent == AccessExtent.RepeatCount)
        {
            // rcx elements from here (rcx holds the guest's value): the string routine works out the
            // size and, with the direction flag set, the range below the pointer.
            code.StoreSlot(MemcheckSlots.StringCountBefore, Register.RCX);
            code.SetSlot64(MemcheckSlots.StringCountAfter, 0);
            code.SetSlot32(MemcheckSlots.CheckStringElement, access.Size);
        }
        else
        {
            code.SetSlot64(MemcheckSlots.CheckSize, access.Size);
        }
        access.EmitLea(code, scratch);
        code.StoreSlot(MemcheckSlots.CheckAddress, scratch);
        if (access.OpMask != Register.None)
        {
            StoreMask(code, access, scratch);
        }
        else
        {
            code.SetSlot64(MemcheckSlots.CheckMask, -1);
            code.SetSlot32(MemcheckSlots.CheckElementShift, 63);
        }
        code.SetSlot32(MemcheckSlots.CheckSite, site.Id);
        code.SetSlot32(MemcheckSlots.CheckKind, KindOf(site, inPlace));
        code.SetSlot64(ContextOffsets.LinkReturn, checked((int)resume));
        code.Raw([0xE9]);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, access.Extent == AccessExtent.RepeatCount ? stringRoutine : checkRoutine));
    }

    // By scratch register: an unmasked fixed site's hand-over to the routine after its address is in the scratch.
    private readonly CodeTemplate?[] _siteSetups = new CodeTemplate?[16];

    private CodeTemplate RecordSiteSetup(Register scratch) =>
        _siteSetups[scratch - Register.RAX] = CodeTemplate.Record(routines.AccessCheckFromSite, (code, fields) =>
        {
            code.StoreSlot(MemcheckSlots.CheckAddress, scratch);
            code.SetSlot32(MemcheckSlots.CheckSite, 0x1234567);
            fields.Immediate(0);
            code.SetSlot64(ContextOffsets.LinkReturn, 0x1234567);
            fields.Immediate(1);
            code.Raw([0xE9]);
            code.Int32(Rel32.Displacement(code.CurrentAddress + 4, routines.AccessCheckFromSite));
            fields.Relative(2);
        });

    private static void StoreMask(CodeBuffer code, CheckedAccess access, Register scratch)
    {
        code.Encode(MaskBits(scratch, access));
        code.StoreSlot(MemcheckSlots.CheckMask, scratch);
        code.SetSlot32(MemcheckSlots.CheckElementShift, System.Numerics.BitOperations.Log2((uint)access.ElementSize));
    }

    /// <summary>A write-only store of mode-0 code: the first write to fresh malloc'd memory (or a new frame) finds its bytes undefined.</summary>
    private bool DefinesFreshBytes(AccessSite site) =>
        TrackDefinedness && !Propagating && site.Access.IsWrite && !site.Access.IsRead;

    /// <summary>
    /// The propagating mode's access whose undefined lanes only set the pending bit in the routine: a
    /// read (not merged: this mode checks each instruction apart), or a store whose move sets its lanes.
    /// </summary>
    private bool SetsPending(AccessSite site, bool inPlace, bool storeSetsLanes) =>
        TrackDefinedness && inPlace && site.Parts == null && (site.Access.IsRead || storeSetsLanes && site.Access.IsWrite);

    /// <summary>
    /// A write-only store relative to rsp (a frame's local or spill) by mode-0 code, 4-aligned in
    /// offset and size: the stack tracking keeps it addressable, and every register is defined, so
    /// the check would only send it to the slow path to define a new frame's undefined bytes. Its
    /// shadow bytes are stored as defined instead (rsp is 8-aligned in practice, so the lanes are
    /// exactly the store's).
    /// </summary>
    private bool DefinesInline(PlannedCheck check)
    {
        CheckedAccess access = check.Access;
        return TrackDefinedness && !Propagating && check.Parts == null && access.Base == Register.RSP && access.Index == Register.None
            && access.IsWrite && !access.IsRead && access.OpMask == Register.None && access.Extent == AccessExtent.Fixed
            && access.Displacement % 4 == 0 && access.Size % 4 == 0 && access.Size is >= 4 and <= 64;
    }

    /// <summary><paramref name="shadowBytes"/> (1 to 16) shadow bytes at fs:[scratch] set defined.</summary>
    private static void EmitDefine(CodeBuffer code, Register scratch, int shadowBytes)
    {
        for (int offset = 0; offset < shadowBytes;)
        {
            int width = shadowBytes - offset >= 8 ? 8 : shadowBytes - offset >= 4 ? 4 : shadowBytes - offset >= 2 ? 2 : 1;
            var shadow = new MemoryOperand(scratch, Register.None, 1, offset, offset == 0 ? 0 : 1, false, Register.GS);
            code.Encode(width switch
            {
                8 => Instruction.Create(Code.Mov_rm64_imm32, shadow, 0),
                4 => Instruction.Create(Code.Mov_rm32_imm32, shadow, 0),
                2 => Instruction.Create(Code.Mov_rm16_imm16, shadow, 0),
                _ => Instruction.Create(Code.Mov_rm8_imm8, shadow, 0),
            });
            offset += width;
        }
    }

    /// <summary>
    /// What the routine does with undefined bytes. A write-only merged check defines its whole range:
    /// the planner never lets one span a gap (<see cref="CheckPlanner.NoGapsInWrites"/>).
    /// </summary>
    private int KindOf(AccessSite site, bool inPlace)
    {
        CheckedAccess access = site.Access;
        int packed = access.Packed ? CheckKinds.PrefixMask : 0;
        return packed | (!TrackDefinedness ? CheckKinds.AddressOnly
            : (access.IsRead ? CheckKinds.Reads : 0) | (access.IsWrite ? CheckKinds.Writes : 0) | (inPlace ? CheckKinds.InPlace : 0));
    }

    /// <summary>The access's element mask into <paramref name="scratch"/>: a k register as is, a vector mask as its elements' sign bits.</summary>
    private static Instruction MaskBits(Register scratch, CheckedAccess access)
    {
        Register mask = access.OpMask;
        if (mask.IsK()) return Instruction.Create(Code.VEX_Kmovq_r64_kr, scratch, mask);
        Register bits = Register.EAX + (scratch - Register.RAX);   // a 32-bit write clears the upper half
        bool wide = mask.IsYMM();
        return access.ElementSize switch
        {
            8 => Instruction.Create(wide ? Code.VEX_Vmovmskpd_r32_ymm : Code.VEX_Vmovmskpd_r32_xmm, bits, mask),
            4 => Instruction.Create(wide ? Code.VEX_Vmovmskps_r32_ymm : Code.VEX_Vmovmskps_r32_xmm, bits, mask),
            _ => Instruction.Create(Code.Pmovmskb_r32_xmm, bits, mask),
        };
    }

    /// <summary>
    /// Shadow loads that together cover any placement of a <paramref name="size"/>-byte access: a
    /// load of w shadow bytes at (a + offset) &gt;&gt; 2 covers 4w application bytes from (a + offset) &amp; ~3.
    /// </summary>
    /// <summary>
    /// A frame access (rsp-relative, 4-aligned offset and size, with definedness): rsp is 8-aligned
    /// in practice, so its shadow bytes are exactly size / 4 from the address's. Probing only those
    /// keeps a defined local's load off the slow path when its neighbour in a new frame is undefined
    /// (at worst, with an odd rsp, a neighbour's lane is probed instead of the access's last one).
    /// </summary>
    private bool FrameAligned(CheckedAccess access) =>
        TrackDefinedness && access.Base == Register.RSP && access.Index == Register.None && access.Extent == AccessExtent.Fixed
        && access.Displacement % 4 == 0 && access.Size is 4 or 8 or 16 or 32;

    private static int AlignedProbes(int size, Span<(long Offset, int ShadowBytes)> probes)
    {
        probes[0] = (0, size / 4);
        return 1;
    }

    /// <summary>The width of the first of <see cref="Probes"/> (no iterator object per stub).</summary>
    private static int FirstProbeBytes(int size) => size <= 1 ? 1 : size <= 5 ? 2 : size <= 13 ? 4 : 8;

    /// <summary>Probes of up to <see cref="MaxInlineSize"/> bytes: at most three qwords (0, 28, 56).</summary>
    private const int MaxProbes = 3;

    /// <summary>The probes of a <paramref name="size"/>-byte access, any size (the inline checks use <see cref="FillProbes"/>).</summary>
    internal static IEnumerable<(long Offset, int ShadowBytes)> Probes(int size)
    {
        if (size <= 1) { yield return (0, 1); yield break; }
        if (size <= 5) { yield return (0, 2); yield break; }
        if (size <= 13) { yield return (0, 4); yield break; }
        for (long offset = 0; ; offset += 28)
        {
            yield return (offset, 8);
            if (offset + 29 >= size) yield break;
        }
    }

    /// <summary>As <see cref="Probes"/> for an access of at most <see cref="MaxInlineSize"/> bytes, into <paramref name="probes"/> (no iterator object per check); returns how many.</summary>
    internal static int FillProbes(int size, Span<(long Offset, int ShadowBytes)> probes)
    {
        if (size <= 1) { probes[0] = (0, 1); return 1; }
        if (size <= 5) { probes[0] = (0, 2); return 1; }
        if (size <= 13) { probes[0] = (0, 4); return 1; }
        int count = 0;
        for (long offset = 0; ; offset += 28)
        {
            probes[count++] = (offset, 8);
            if (offset + 29 >= size) return count;
        }
    }

    // The probe after its lea, by flags dead, scratch and width: the same few bytes at every site.
    private static readonly byte[]?[] ProbeTails = new byte[]?[2 * 16 * 4];

    private static byte[] ProbeTail(Register scratch, int shadowBytes, bool flagsDead)
    {
        int key = (flagsDead ? 64 : 0) | (scratch - Register.RAX) << 2 | System.Numerics.BitOperations.Log2((uint)shadowBytes);
        return ProbeTails[key] ?? (ProbeTails[key] = EncodeProbeTail(scratch, shadowBytes, flagsDead));
    }

    private static byte[] EncodeProbeTail(Register scratch, int width, bool flagsDead) =>
        CodeTemplate.Encode(code => EmitProbeTail(code, scratch, width, flagsDead));

    private static void EmitProbeTail(CodeBuffer code, Register scratch, int width, bool flagsDead)
    {
        if (flagsDead)
        {
            code.Encode(Instruction.Create(Code.Shr_rm64_imm8, scratch, 2));
            code.Encode(CompareShadow(scratch, width));
        }
        else
        {
            code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
            code.Encode(LoadShadow(width));
            code.Raw([0xE3, 0x05]);   // jrcxz over the 5-byte jmp to the stub
        }
    }

    /// <summary>
    /// The shadow index of an absolute access's probe at <paramref name="offset"/> (a global:
    /// <see cref="MemoryAccessClassifier.ChecksGlobalAt"/>) when a disp32 holds it; null otherwise.
    /// </summary>
    private static int? AbsoluteShadowIndex(CheckedAccess access, long offset)
    {
        if (access.Base != Register.None || access.Index != Register.None || access.FsRelative) return null;
        long address = access.Displacement + offset;
        return address >= 0 && address >> 2 <= int.MaxValue ? (int)(address >> 2) : null;
    }

    private static Instruction LoadShadow(int shadowBytes, int? absoluteIndex = null)
    {
        var shadow = absoluteIndex is int index
            ? new MemoryOperand(Register.None, Register.None, 1, index, 4, false, Register.GS)
            : new MemoryOperand(Register.RCX, Register.None, 1, 0, 0, false, Register.GS);
        return shadowBytes switch
        {
            1 => Instruction.Create(Code.Movzx_r32_rm8, Register.ECX, shadow),
            2 => Instruction.Create(Code.Movzx_r32_rm16, Register.ECX, shadow),
            4 => Instruction.Create(Code.Mov_r32_rm32, Register.ECX, shadow),
            _ => Instruction.Create(Code.Mov_r64_rm64, Register.RCX, shadow),
        };
    }

    // jmp rel32, unaligned (never relinked; the jrcxz before it counts on exactly 5 bytes).
    private static int JumpToStub(CodeBuffer code)
    {
        code.Byte(0xE9);
        int field = code.Length;
        code.Int32(0);
        return field;
    }

    private static bool Uses(CheckedAccess access, Register register) =>
        access.Base.Full() == register || access.Index.Full() == register;

    private static Instruction CompareShadow(Register scratch, int shadowBytes, int? absoluteIndex = null)
    {
        var shadow = absoluteIndex is int index
            ? new MemoryOperand(Register.None, Register.None, 1, index, 4, false, Register.GS)
            : new MemoryOperand(scratch, Register.None, 1, 0, 0, false, Register.GS);
        return shadowBytes switch
        {
            1 => Instruction.Create(Code.Cmp_rm8_imm8, shadow, 0),
            2 => Instruction.Create(Code.Cmp_rm16_imm8, shadow, 0),
            4 => Instruction.Create(Code.Cmp_rm32_imm8, shadow, 0),
            _ => Instruction.Create(Code.Cmp_rm64_imm8, shadow, 0),
        };
    }

    // jne rel32 (0F 85), unaligned: never relinked.
    private static int JumpIfNotZero(CodeBuffer code)
    {
        code.Byte(0x0F);
        code.Byte(0x85);
        int field = code.Length;
        code.Int32(0);
        return field;
    }
}
