using Checker.Engine.Emission;
using Checker.Engine.Tools;
using Checker.MemcheckTool.Definedness;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// memcheck's pass over each block: the inline access checks planned per instruction (with the
/// block's dead registers and flags, or the held scratch), gathers and scatters lane by lane, and
/// the stack's shadow kept with rsp for every instruction that sets it.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class MemcheckInstrumenter(MemcheckRoutines routines, Definedness.DefinednessChecks? definedness = null) : BlockInstrumenter
{
    private readonly AccessCheckEmitter _checks = new(routines);
    private readonly CheckPlanner _planner = new();
    private readonly Definedness.PropagationEmitter _propagation = new();
    private readonly Definedness.PropagatingSwitches _switches = new();
    private readonly List<StackTracking.OffStackGrowth> _offStack = [];
    private List<PlannedCheck>[] _plan = [];
    private BlockServices _block = null!;
    // The end (exclusive) of the run of pops the last pop probe covered.
    private int _popRunEnd;
    private Func<int, bool>? _keepsApart;
    private Func<ulong, ulong, bool>? _checksGlobalAt;
    private Func<ulong, bool>? _checksTlsAt;
    private bool _copies;

    public override void BeginBlock(BlockServices block)
    {
        _block = block;
        _popRunEnd = 0;
        if (definedness != null) definedness.Statistics.TranslationsByMode[block.Mode]++;
        _checks.Reset();
        _planner.Merge = definedness == null || block.Mode != DefinednessMode.Propagating;
        _planner.KeepApart = definedness != null ? _keepsApart ??= KeepsApart : null;
        _planner.CheckFrames = definedness != null;
        _planner.ChecksGlobalAt = _propagation.ChecksGlobalAt = definedness != null ? _checksGlobalAt ??= definedness.ChecksGlobalAt : null;
        _planner.ChecksTlsAt = _propagation.ChecksTlsAt = definedness != null ? _checksTlsAt ??= definedness.ChecksTlsAt : null;
        _planner.NoGapsInWrites = definedness != null;
        _planner.CheckPops = definedness != null && block.Mode == DefinednessMode.Propagating;
        // Mode 0 runs with every register defined: its stores define, its undefined reads switch modes.
        _checks.TrackDefinedness = definedness != null;
        _checks.Propagating = block.Mode == DefinednessMode.Propagating;
        _propagation.Reset();
        _switches.Reset();
        _offStack.Clear();
        _leaves.Clear();
        _propagation.InlineMoves = definedness is { TracksOrigins: false };
        _propagation.RegisterRoutine = definedness?.RegisterRoutine ?? 0;
        _propagation.DefineInPlace = definedness is { TracksOrigins: false };
        _propagation.Shared = routines.SharedShapes;
        _propagation.LazyHitRoutine = routines.LazyHitRoutine;
        if (definedness != null) _propagation.BeginBlock(block.Span, block.Liveness);
        // Mode 0's copies through a register are propagated where they are (their checks kept apart:
        // a load's own check sets the pending bit its pre-check reads).
        // In the propagating mode they only let its block entry leave for the plain one (see there).
        _copies = definedness != null && !definedness.TracksOrigins;
        if (_copies)
        {
            _propagation.FindPlainCopies(block.Span);
            if (block.Mode == DefinednessMode.Propagating) _copies = false;
            // In the plain mode a copy through a general register would leave it undefined where no
            // guard looks: its load leaves for the guarded mode instead when its check met undefined
            // bytes (LeavesAtCopy), flags dead; with live flags there the block has no copies.
            else if (block.Mode == DefinednessMode.Plain)
                for (int i = 0; i < block.Span.Length; i++)
                    if (GeneralCopyLoad(i) && !block.Liveness.FlagsDeadBefore(i))
                    {
                        _propagation.ForgetCopies();
                        _copies = false;
                        break;
                    }
        }
        _plan = _planner.Plan(block.Span, block.Liveness);
        block.Held.Wanted = _wantsHeld ??= WantsHeld;
    }

    private Func<int, bool>? _wantsHeld;

    /// <summary>The guarded mode's indirect branches go to the plain mode's fragments once the general registers and flags are defined.</summary>
    public override (int Slot, uint Bits, int Mode)? LookupInstead(int mode) =>
        definedness != null && mode == DefinednessMode.Guarded ? (State.MemcheckSlots.Dirty, ShadowRegisters.GeneralBits, DefinednessMode.Plain) : null;

    /// <summary>Whether instruction <paramref name="index"/>'s checks would take the held scratch (as <see cref="EmitChecks"/> decides).</summary>
    private bool WantsHeld(int index) =>
        _plan[index].Count > 0 && !(definedness != null && _block.Mode == DefinednessMode.Propagating)
        && _block.Liveness.FlagsDeadBefore(index) && _block.Liveness.FreeRegisterBefore(index) == Register.None;

    /// <summary>
    /// Whether instruction <paramref name="index"/>'s accesses are checked alone: a plain copy of mode 0
    /// (by index: a set of the block's copy pcs, made per block, cost more than the plan itself) or a
    /// pc whose merged check kept leaving for its gaps.
    /// </summary>
    private bool KeepsApart(int index) =>
        (_copies && _propagation.IsPlainCopy(index)) || definedness!.KeepsApart(_block.Span[index].IP);

    public override void BeforeInstruction(CodeBuffer code, int index)
    {
        ref readonly Instruction ins = ref _block.Span[index];
        bool propagating = definedness != null && _block.Mode == DefinednessMode.Propagating;
        bool profile = CodeSizeProfile.Enabled;
        int mode = _block.Mode, start = code.Length;
        // A propagating block runs once per request (the forced bit) and leaves otherwise; a plain
        // block leaves for a propagating one when it uses an undefined register.
        if (propagating && index == 0) _propagation.EmitBlockEntry(code, ins.IP, _block.ExitTo);
        if (definedness != null && !propagating && index == 0)
            _propagation.EmitGuard(code, ins.IP, _block.Liveness.FlagsDeadBefore(0), _switches, Keeper(0),
                exempt: _block.Mode == DefinednessMode.Plain ? ShadowRegisters.GeneralBits : 0);
        if (profile) { CodeSizeProfile.Add(propagating ? CodeSizeProfile.Kind.BlockEntry : CodeSizeProfile.Kind.Guard, mode, code.Length - start); start = code.Length; }
        // Pushes and calls write below rsp unchecked: their slots (and a callee's red zone) get their definedness here.
        if (definedness != null && PushAndCallShadow.Applies(ins, _block.Instructions, index))
            PushAndCallShadow.EmitBefore(code, _block.Instructions, index, _block.Liveness.FreeRegisterBefore(index), routines.ForeignCall, routines.CallShadow);
        if (profile) { CodeSizeProfile.Add(CodeSizeProfile.Kind.PushAndCall, mode, code.Length - start); start = code.Length; }
        // A pop may restore an undefined value a propagating push saved: probed, and if so re-run propagating.
        // A run of pops (an epilogue's) is probed once, at its first; inside a held-scratch run too
        // (its exit to the propagating mode gives the held register back).
        if (definedness != null && !propagating && index >= _popRunEnd && PopProbe.Applies(ins))
        {
            int run = PopProbe.RunLength(_block.Instructions, index);
            PopProbe.Emit(code, ins, run, _switches, _block.Liveness.FreeRegisterBefore(index), _block.Liveness.FlagsDeadBefore(index),
                _block.Held.Held);
            _popRunEnd = index + run;
        }
        if (profile) CodeSizeProfile.Add(CodeSizeProfile.Kind.PopProbe, mode, code.Length - start);
        bool copy = _copies && _propagation.IsPlainCopy(index), move = copy && _propagation.IsCopyMove(index);
        // The plain mode's copies through a general register: the load leaves when undefined, the rest are not copies.
        bool leaves = false;
        if (copy && _block.Mode == DefinednessMode.Plain && (_propagation.CopyBitOf(index) & ShadowRegisters.GeneralBits) != 0)
        {
            leaves = GeneralCopyLoad(index);
            copy = move = false;
        }
        _checks.PropagatesHere = propagating || move || leaves;
        if (ins.FlowControl is FlowControl.Next or FlowControl.IndirectCall or FlowControl.IndirectBranch && ins.Code is not (Code.Syscall or Code.INVALID))
            EmitChecks(code, index, ins, holdScratch: !propagating);
        start = code.Length;
        // After the checks (an unaddressable access is reported first), before the instruction.
        if (propagating) _propagation.EmitBefore(code, ins, index, definedness!.AddSite(ins), definedness.PropagateRoutine, definedness.MoveRoutine, Keeper(index));
        else if (move)
            _propagation.EmitPlainCopy(code, ins, index, definedness!.AddSite(ins), definedness.PropagateRoutine, definedness.MoveRoutine,
                _block.Liveness.FlagsDeadBefore(index), Keeper(index));
        // An overwrite of a register copies left undefined: defined in place, as the propagating mode does.
        else if (copy) _propagation.EmitBefore(code, ins, index, definedness!.AddSite(ins), definedness.PropagateRoutine, definedness.MoveRoutine, Keeper(index));
        else if (leaves) LeaveIfPending(code, ins.IP);
        if (profile) CodeSizeProfile.Add(CodeSizeProfile.Kind.Propagation, mode, code.Length - start);
    }

    /// <summary>Whether instruction <paramref name="index"/> is a plain copy that loads a general register.</summary>
    private bool GeneralCopyLoad(int index) =>
        (_propagation.CopyBitOf(index) & ShadowRegisters.GeneralBits) != 0 && _block.Span[index].Op0Kind == OpKind.Register;

    // The plain mode's general-register copy loads: the jnz's rel32, the instruction's pc and the
    // register a held run keeps in gs:[HeldScratch] there (None: none), given back before leaving.
    private readonly List<(int Field, ulong Pc, Register Held)> _leaves = [];

    /// <summary>
    /// After a plain-mode copy load's check (which set the pending bit when it met undefined bytes):
    /// <c>test dword gs:[Dirty], pending ; jnz leave</c>, where leave (out of line, <see cref="EmitSideExits"/>)
    /// clears the pending bit and goes to the guarded mode's fragment at the same instruction, whose
    /// copy takes the register's shadow as before.
    /// </summary>
    private void LeaveIfPending(CodeBuffer code, ulong pc)
    {
        code.TestSlot8(State.MemcheckSlots.Dirty + ShadowRegisters.PendingBit / 8, 1 << (ShadowRegisters.PendingBit % 8));
        code.Byte(0x0F);
        code.Byte(0x85);
        _leaves.Add((code.Length, pc, _block.Held.Held));
        code.Int32(0);
    }

    /// <summary>
    /// Where a pre-check or guard keeps rcx before instruction <paramref name="index"/>: a register dead
    /// there (rcx itself when it is dead), not the held check scratch (its guest value is in
    /// gs:[HeldScratch] and comes back at the run's end); None: the context block.
    /// </summary>
    private Register Keeper(int index)
    {
        Register free = _block.Liveness.FreeRegisterBefore(index);
        return free != _block.Held.Held ? free : Register.None;
    }

    private void EmitChecks(CodeBuffer code, int index, in Instruction ins, bool holdScratch)
    {
        Register scratch = _block.Liveness.FreeRegisterBefore(index);
        bool flagsDead = _block.Liveness.FlagsDeadBefore(index);
        // No dead register where the flags are dead: hold one across the run rather than spill per check.
        // (Not in the propagating mode: its C# exit reads every register from the context block.)
        if (scratch == Register.None && flagsDead && _plan[index].Count > 0 && holdScratch)
        {
            int start = code.Length;
            scratch = _block.Held.Held != Register.None ? _block.Held.Held
                : ins.FlowControl == FlowControl.Next ? _block.Held.Acquire(code, _block.Span, index) : Register.None;
            if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.HeldScratch, _block.Mode, code.Length - start);
        }
        _checks.Mode = _block.Mode;
        // Only the propagating mode: a plain copy's store into fresh (undefined) bytes defines them inline as any
        // plain store does; its pre-check then runs the move routine only when the register is dirty
        // (setting the pending bit there sent every such store through the routine: cxxalloc +5%).
        _checks.StoreSetsLanes = _block.Mode == DefinednessMode.Propagating && _checks.PropagatesHere && _propagation.SetsStoredLanes(index);
        // A plain copy's store: fresh lanes are defined inline only while the register is clean (when it is
        // dirty the move routine sets them next).
        _checks.StoredDirtyBit = _block.Mode != DefinednessMode.Propagating && _checks.PropagatesHere
            ? _propagation.StoredDirtyBit(index) : -1;
        _checks.EmitChecks(code, ins.IP, _plan[index], scratch, flagsDead);
        int vsibStart = code.Length;
        if (VsibCheck.Applies(ins))
            VsibCheck.Emit(code, ins, routines.Sites, routines.VsibCheck, trackDefinedness: definedness != null,
                propagating: definedness != null && _block.Mode == DefinednessMode.Propagating);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.Vsib, _block.Mode, code.Length - vsibStart);
    }

    public override bool TryEmitInstruction(CodeBuffer code, int index, Action<CodeBuffer> emitPlain)
    {
        if (!_block.Liveness.SetsStackPointer(index)) return false;
        Instruction ins = _block.Span[index];
        int start = code.Length;
        bool emitted = TryEmitStackPointerWrite(code, index, ins, emitPlain);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.StackTracking, _block.Mode, code.Length - start);
        return emitted;
    }

    private bool TryEmitStackPointerWrite(CodeBuffer code, int index, Instruction ins, Action<CodeBuffer> emitPlain)
    {
        if (StackTracking.TryEmitInline(code, ins, _block.Liveness.FreeRegisterAfter(index), _block.Liveness.FlagsDeadAfter(index),
                undefinedFrames: definedness != null, routines.StackAdjustRelative, _offStack))
            return true;
        StackTracking.EmitBefore(code);
        emitPlain(code);
        StackTracking.EmitAfter(code, definedness != null && ForeignStacks.IsRelative(ins) ? routines.StackAdjustRelative : routines.StackAdjust, ins);
        if (definedness != null && ins.Mnemonic == Mnemonic.Enter) PushAndCallShadow.EmitEnterSlots(code, ins);
        return true;
    }

    public override void AfterInstruction(CodeBuffer code, int index)
    {
        int start = code.Length;
        _checks.EmitAfter(code);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.CheckOther, _block.Mode, code.Length - start);
    }

    public override void EmitSideExits(CodeBuffer code)
    {
        int start = code.Length;
        _switches.Emit(code, _block.ExitTo);
        foreach ((int field, ulong pc, Register held) in _leaves)
        {
            code.PatchRel32(field, code.CurrentAddress);
            if (held != Register.None) code.LoadSlot(held, Engine.State.ContextOffsets.HeldScratch);
            code.Encode(Instruction.Create(Code.And_rm8_imm8, ContextOperand.Slot(State.MemcheckSlots.Dirty + ShadowRegisters.PendingBit / 8),
                unchecked((byte)~(1 << (ShadowRegisters.PendingBit % 8)))));
            _block.ExitTo(code, pc, DefinednessMode.Guarded);
        }
        _leaves.Clear();
        StackTracking.EmitOffStack(code, _offStack);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.SideExits, _block.Mode, code.Length - start);
    }

    public override void EmitStubs(CodeBuffer code)
    {
        _checks.EmitStubs(code);
        int start = code.Length;
        _propagation.EmitConstants(code);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.Constants, _block.Mode, code.Length - start);
    }
}
