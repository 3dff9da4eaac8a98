using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.MemcheckTool.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// What the propagating mode puts before each instruction: a flag-free pre-check of the thread's
/// Dirty bits against the instruction's inputs (registers it reads, the flags, the pending bit an
/// undefined read sets; <see cref="DefinedOutputs"/>), and only when one is undefined, the inline
/// move or the exit to C# that propagates it. Instructions with defined inputs run at nearly full
/// speed (what they write whole is defined in place), so a register left undefined costs little.
/// <code>
///   mov gs:[PrecheckSaveRcx], rcx (or mov keeper, rcx: a register dead here; nothing when rcx is)
///   (when it writes something whole: mov rcx, gs:[Dirty] ; pext rcx, rcx, [rip+inputs|outputs] ; jrcxz restore)
///   mov rcx, gs:[Dirty] ; pext rcx, rcx, [rip+inputs]
///   jrcxz skip ; jmp hit ; skip: (define what it writes whole) ; restore: mov rcx, gs:[PrecheckSaveRcx] ; done:
///   ... after the fragment's stubs: hit: mov rcx, gs:[PrecheckSaveRcx] ; (inline move or propagation exit) ; jmp done
/// </code>
/// The hit paths and the masks live after the fragment's stubs (<see cref="EmitConstants"/>).
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
internal sealed class PropagationEmitter
{
    private readonly List<(int Field, ulong Mask)> _masks = [];
    private readonly Dictionary<ulong, ulong> _maskAt = [];
    private const int FewMasks = 32;
    // The block's dirty-bit masks, per instruction and all together (BeginBlock).
    private ulong[] _instructionMasks = new ulong[16];
    private ulong _blockMask;
    // Each instruction's inline move (InlineMove), once per block: the copies' analysis, the
    // pre-checks and the stores' checks asked it again per instruction and per candidate register
    // (each asking Iced's flags tables and the rules again; ~3% of checked translation on cc1plus).
    private MoveShape?[] _moves = new MoveShape?[16];
    private Engine.Translation.Liveness _liveness = null!;

    public void Reset()
    {
        _masks.Clear();
        _hits.Clear();
    }

    /// <summary>Whether plain moves take <see cref="ShadowMoveRoutine"/> (not with --track-origins: origins are C#'s).</summary>
    public bool InlineMoves { get; set; } = true;

    /// <summary>The routine of the register-only rules (<see cref="ShadowRegisterRoutine"/>; 0: none, every such instruction exits to C#). Only with <see cref="InlineMoves"/>.</summary>
    public ulong RegisterRoutine { get; set; }

    /// <summary>Whether outputs of defined inputs are defined in place (<see cref="DefinedOutputs"/>; not with --track-origins).</summary>
    public bool DefineInPlace { get; set; } = true;

    private readonly DefinedOutputs _outputs = new();

    /// <summary>Which globals the checks see (<see cref="Instrumentation.MemoryAccessClassifier.ChecksGlobalAt"/>).</summary>
    public Func<ulong, ulong, bool>? ChecksGlobalAt
    {
        get => _outputs.ChecksGlobalAt;
        set => _outputs.ChecksGlobalAt = value;
    }

    /// <summary>Whether fs-relative accesses are checked (<see cref="Instrumentation.MemoryAccessClassifier.ChecksTlsAt"/>).</summary>
    public Func<ulong, bool>? ChecksTlsAt
    {
        get => _outputs.ChecksTlsAt;
        set => _outputs.ChecksTlsAt = value;
    }

    /// <summary>
    /// Before a block's first instruction: each instruction's dirty-bit mask and the block's, from
    /// the registers the block's analysis already has (one look at Iced's tables per instruction).
    /// </summary>
    public void BeginBlock(ReadOnlySpan<Instruction> block, Engine.Translation.Liveness liveness)
    {
        _liveness = liveness;
        int n = block.Length;
        if (_instructionMasks.Length < n)
        {
            _instructionMasks = new ulong[Math.Max(n, 2 * _instructionMasks.Length)];
            _moves = new MoveShape?[_instructionMasks.Length];
            _splits = new DefinedOutputs.Split[_instructionMasks.Length];
            _splitKnown = new bool[_instructionMasks.Length];
        }
        Array.Clear(_splitKnown, 0, n);
        ulong all = 0;
        for (int i = 0; i < n; i++)
        {
            all |= _instructionMasks[i] = MaskOf(block[i], liveness.UsedRegisterList(i), liveness.FlagsTouched(i));
            _moves[i] = InlineMove(block[i]);
        }
        _blockMask = all & ~(1UL << ShadowRegisters.PendingBit);
        _copyRegisters = 0;   // until FindPlainCopies
    }

    // Each instruction's DefinedOutputs split, once per block when first asked: the copies' analysis
    // and the pre-checks asked it for the same instructions (each time classifying its accesses again).
    private DefinedOutputs.Split[] _splits = new DefinedOutputs.Split[16];
    private bool[] _splitKnown = new bool[16];

    /// <summary>What instruction <paramref name="index"/> (<paramref name="ins"/>) defines in place (<see cref="DefinedOutputs.Of"/> with its mask).</summary>
    private DefinedOutputs.Split OutputsOf(in Instruction ins, int index)
    {
        if (_splitKnown[index]) return _splits[index];
        _splitKnown[index] = true;
        return _splits[index] = _outputs.Of(ins, _instructionMasks[index], _liveness.UsedRegisterList(index), _liveness.UsedMemoryList(index));
    }

    // The plain mode's copies (FindPlainCopies): per instruction whether it is one, and the
    // registers they carry, which the plain block's guard leaves out.
    private bool[] _copies = new bool[16];
    private ulong[] _copyBits = new ulong[16];
    private ulong _copyRegisters;

    /// <summary>The dirty bits of the registers the block's plain copies carry (<see cref="FindPlainCopies"/>).</summary>
    public ulong CopyRegisters => _copyRegisters;

    /// <summary>The dirty bit of the register copy <paramref name="index"/> loads or stores (<see cref="IsPlainCopy"/>), else 0.</summary>
    public ulong CopyBitOf(int index) => _copies[index] ? _copyBits[index] : 0;

    /// <summary>The block has no plain copies after all: its guard tests their registers too.</summary>
    public void ForgetCopies()
    {
        Array.Clear(_copies);
        _copyRegisters = 0;
    }

    /// <summary>
    /// A plain (mode-0) block's copies through a register: a register whose uses in the block, from
    /// a load into it until it is written whole again, are all moves the move routine does
    /// (<see cref="InlineMove"/>), loads into it or stores of it, never an address (<c>mov rdx, [rcx+rax] ; mov
    /// [rdi+rax], rdx</c>, a record's 16-byte halves through xmm2/xmm3). Such a load of undefined
    /// bytes need not leave the plain mode: its check sets the pending bit, the pre-check the
    /// propagating mode puts before it (<see cref="EmitBefore"/>) sets the register's shadow, and
    /// its stores' pre-checks write that shadow to memory; no other instruction of the block sees the
    /// register, and the next block's guard sends the thread to the propagating mode if it uses it.
    /// The guard leaves out a register only copies use: the load's pre-check takes the register's old shadow as
    /// the propagating mode does (a general register written whole is defined in place, a vector
    /// register's dirty bit is an input, and the move routine recomputes it over the whole register).
    /// sort's merge loop and the memmove replacement's qword loop switched modes 272K times and then
    /// ran propagating; sqlite's parser passed an undefined stack value to a call the same way (140K).
    /// Call after <see cref="BeginBlock"/>; true for an instruction that is such a copy.
    /// </summary>
    public void FindPlainCopies(ReadOnlySpan<Instruction> block)
    {
        int n = block.Length;
        if (_copies.Length < n)
        {
            _copies = new bool[Math.Max(n, 2 * _copies.Length)];
            _copyBits = new ulong[_copies.Length];
        }
        Array.Clear(_copies, 0, n);
        _copyRegisters = 0;
        if (!InlineMoves) return;
        // Per instruction, the register bit it copies (a load into it or a store of it), else 0.
        ulong loaded = 0;
        for (int i = 0; i < n; i++)
        {
            ref readonly Instruction ins = ref block[i];
            // Instructions that touch registers Iced's lists may not name (every vector's upper half).
            if (ins.Mnemonic is Mnemonic.Vzeroupper or Mnemonic.Vzeroall or Mnemonic.Xrstor or Mnemonic.Xrstor64 or Mnemonic.Fxrstor or Mnemonic.Fxrstor64
                or Mnemonic.Xrstors or Mnemonic.Xrstors64) return;
            _copyBits[i] = _moves[i] is { } move && (move.AddressBits & (1 << move.Bit)) == 0 && (ShadowRegisters.RegisterBits >> move.Bit & 1) != 0
                ? 1UL << move.Bit : 0;
            if (_copyBits[i] != 0 && block[i].Op0Kind == OpKind.Register) loaded |= _copyBits[i];
        }
        loaded &= ~(1UL << ShadowRegisters.DirtyBit(Register.RSP));
        if (loaded == 0) return;
        // Instructions that write a candidate whole without reading it (xor edx, edx; mov eax, 1): they
        // may follow its copies, their pre-check defining it in place (DefinedOutputs) as in the propagating mode.
        for (int i = 0; i < n; i++)
        {
            ulong others = _instructionMasks[i] & RegisterBits & loaded & ~_copyBits[i];
            if (others == 0) continue;
            DefinedOutputs.Split split = OutputsOf(block[i], i);
            ulong overwritten = split.Cleared & others & ~split.Inputs;
            if (overwritten == 0) continue;
            _copyBits[i] |= overwritten;
        }
        // Each register, walked forward: while it may hold a copied undefined value, its uses must be
        // copies or overwrites (which define it again). Left out of the guard when that holds from
        // the block's start, else asked defined there.
        for (ulong candidates = loaded; candidates != 0; candidates &= candidates - 1)
        {
            ulong bit = candidates & (ulong)-(long)candidates;
            if (MarkCopies(block, bit, undefinedAtStart: true)) _copyRegisters |= bit;
            else MarkCopies(block, bit, undefinedAtStart: false);
        }
    }

    private readonly List<int> _marked = [];

    private bool MarkCopies(ReadOnlySpan<Instruction> block, ulong bit, bool undefinedAtStart)
    {
        _marked.Clear();
        bool mayBeUndefined = undefinedAtStart;
        for (int i = 0; i < block.Length; i++)
        {
            if ((_instructionMasks[i] & bit) == 0) continue;
            if ((_copyBits[i] & bit) == 0)
            {
                if (mayBeUndefined) return false;
                continue;
            }
            bool move = _moves[i] != null, load = move && block[i].Op0Kind == OpKind.Register;
            if (load || mayBeUndefined) _marked.Add(i);
            if (load) mayBeUndefined = true;
            else if (!move) mayBeUndefined = false;   // an overwrite defines it
        }
        foreach (int i in _marked) _copies[i] = true;
        return true;
    }

    /// <summary>
    /// The pre-check of a plain-mode copy (<see cref="FindPlainCopies"/>): its move runs in the move
    /// routine when the pending bit (its check met undefined lanes) or its register's dirty bit is
    /// set. Every other register it uses is defined (the guard), so with the flags dead it is one
    /// test of Dirty and nothing is defined in place (a clean register stays clean):
    /// <code>
    ///   test dword gs:[Dirty], register|pending ; jnz hit
    /// </code>
    /// With live flags it is the propagating mode's flag-free pre-check (<see cref="EmitBefore"/>).
    /// </summary>
    public void EmitPlainCopy(CodeBuffer code, in Instruction ins, int index, int site, ulong routine, ulong moveRoutine, bool flagsDead, Register keeper = Register.None)
    {
        if (!flagsDead || _moves[index] is not { } move || move.Bit >= 32)
        {
            EmitBefore(code, ins, index, site, routine, moveRoutine, keeper);
            return;
        }
        // The register's bit and the pending bit, both in Dirty's low dword: one test.
        EmitTest(code, MemcheckSlots.Dirty, 1u << move.Bit | 1u << ShadowRegisters.PendingBit);
        code.Byte(0x0F);
        code.Byte(0x85);   // jnz hit (rel32)
        int hitField = code.Length;
        code.Int32(0);
        _hits.Add(new Hit(hitField, code.Length, ins, move, null, site, routine, moveRoutine, RegisterRoutine, RcxSaved: false));
    }

    /// <summary>Whether copy <paramref name="index"/> (<see cref="IsPlainCopy"/>) is a move (else an overwrite, whose pre-check is <see cref="EmitBefore"/>'s).</summary>
    public bool IsCopyMove(int index) => _moves[index] != null;

    /// <summary>Whether instruction <paramref name="index"/> is a copy <see cref="FindPlainCopies"/> found.</summary>
    public bool IsPlainCopy(int index) => _copies[index];

    // Dirty bits of registers (not the flags, x87, forced and pending bits).
    private const ulong RegisterBits = ShadowRegisters.RegisterBits;

    /// <summary>The pre-check of instruction <paramref name="index"/> of the block (<see cref="BeginBlock"/>), <paramref name="ins"/>.</summary>
    /// <param name="keeper">
    /// A register dead before the instruction that keeps rcx's value while the pre-check borrows rcx
    /// (rcx itself: it is dead, nothing to keep); None: through gs:[PrecheckSaveRcx]. A register move
    /// is no store and reload through the context block on every instruction of a propagating block
    /// or plain copy with live flags.
    /// </param>
    public void EmitBefore(CodeBuffer code, in Instruction ins, int index, int site, ulong routine, ulong moveRoutine, Register keeper = Register.None)
    {
        ulong uses = _instructionMasks[index];
        DefinedOutputs.Split split = DefineInPlace
            ? OutputsOf(ins, index)
            : new DefinedOutputs.Split(uses, 0, default, false);
        SaveRcx(code, keeper);
        // Outputs to define in place: first one test of inputs and outputs together. Both clean
        // (the common case, in the propagating mode and at a plain copy's load) leaves nothing to
        // define, a clean register's slot being zero already; defining anyway was a pext, pdep and
        // store of Dirty and a store per slot on every such instruction, and each pre-check's load
        // of Dirty waited on the previous one's store (sqlite's hottest plain fragment, `mov eax,
        // [rdi-8]; ret`: 10 instructions of pre-check, now 5).
        int skipField = -1;
        if (split.Cleared != 0 && SkipReach(split) <= sbyte.MaxValue)
        {
            code.LoadSlot(Register.RCX, MemcheckSlots.Dirty);
            EmitRipForm(code, PextRcxRip);
            _masks.Add((code.Length - 4, split.Inputs | split.Cleared));
            code.Byte(0xE3);   // jrcxz restore
            skipField = code.Length;
            code.Byte(0);
        }
        code.LoadSlot(Register.RCX, MemcheckSlots.Dirty);
        EmitRipForm(code, PextRcxRip);
        _masks.Add((code.Length - 4, split.Inputs));
        // jrcxz over a jmp to the hit path, which is out of line (after the fragment's stubs): the
        // common path takes one branch and the fragment's straight line stays short.
        code.Byte(0xE3);
        code.Byte(5);
        code.Byte(0xE9);
        int hitField = code.Length;
        code.Int32(0);
        if (split.Cleared != 0) EmitDefine(code, split);
        if (skipField >= 0) code.PatchByte(skipField, unchecked((byte)checked((sbyte)(code.Length - (skipField + 1)))));
        RestoreRcx(code, keeper);
        int done = code.Length;
        // pop r64 moves [rsp] (before it runs) into the register: the inline move of mov r64, [rsp].
        Instruction asMove = Instrumentation.PopProbe.Applies(ins)
            ? Instruction.Create(Code.Mov_r64_rm64, ins.Op0Register, new MemoryOperand(Register.RSP)) : ins;
        MoveShape? move = !InlineMoves ? null : ins.Code == asMove.Code ? _moves[index] : InlineMove(asMove);
        RegisterRule? register = move == null && InlineMoves && RegisterRoutine != 0 ? RegisterRule.Of(asMove) : null;
        _hits.Add(new Hit(hitField, done, asMove, move, register, site, routine, moveRoutine, RegisterRoutine, Keeper: keeper));
    }

    /// <summary>rcx into <paramref name="keeper"/> (nothing when rcx is dead), else gs:[PrecheckSaveRcx].</summary>
    private static void SaveRcx(CodeBuffer code, Register keeper)
    {
        if (keeper == Register.None) code.StoreSlot(MemcheckSlots.PrecheckSaveRcx, Register.RCX);
        else if (keeper != Register.RCX) code.Encode(Instruction.Create(Code.Mov_r64_rm64, keeper, Register.RCX));
    }

    /// <summary>rcx's value back from where <see cref="SaveRcx"/> put it.</summary>
    private static void RestoreRcx(CodeBuffer code, Register keeper) => PropagatingSwitches.RestoreRcx(code, keeper);

    /// <summary>A pre-check's hit path, emitted after the fragment's stubs: the jmp's rel32, where to go on, what it does (a value: no closure per instruction).</summary>
    private readonly record struct Hit(int Field, int Done, Instruction AsMove, MoveShape? Move, RegisterRule? Rule, int Site, ulong Routine, ulong MoveRoutine, ulong RegisterRoutine, bool RcxSaved = true, Register Keeper = Register.None)
    {
        public void Emit(CodeBuffer hit)
        {
            if (RcxSaved) RestoreRcx(hit, Keeper);
            if (Move is { } shape) EmitMove(hit, AsMove, shape, Site, MoveRoutine);
            else if (Rule is { } rule) rule.Emit(hit, RegisterRoutine);
            else PropagationRoutine.EmitCall(hit, Site, Routine);
        }

        /// <summary>
        /// As <see cref="Emit"/> for an inline move or a register rule, with the slot stores that
        /// depend only on the shape in a shared copy at <paramref name="copy"/> (<see cref="SharedCopy"/>):
        /// the hit stores what differs per instruction, puts Done in gs:[LinkReturn] (the routine
        /// returns straight there) and jumps to the copy, which jumps to the routine.
        /// </summary>
        public void EmitShared(CodeBuffer hit, ulong copy)
        {
            // As Emit: rcx back only where the pre-check borrowed it (a plain copy's may not have).
            if (RcxSaved) RestoreRcx(hit, Keeper);
            if (Move != null) EmitMoveOperands(hit, AsMove, Site);
            else Rule!.Value.EmitOperands(hit);
            hit.SetSlot64(Engine.State.ContextOffsets.LinkReturn, checked((int)((long)hit.BaseAddress + Done)));
            hit.Byte(0xE9);
            hit.Int32(Rel32.Displacement(hit.CurrentAddress + 4, copy));
        }
    }

    /// <summary>
    /// The shared copy of <paramref name="hit"/>'s shape stores (<see cref="Hit.EmitShared"/>); 0 for
    /// the C# exit or when the pool is full. Remembered by shape: encoding a shape's 7-13 stores
    /// through Iced and hashing their bytes for every hit was ~6% of checked translation (cc1plus),
    /// and a placed copy stays where it is for the run (the pool is never emptied).
    /// </summary>
    private ulong SharedCopy(in Hit hit)
    {
        SharedCode shared = Shared!;
        if (hit.Move is { } shape)
        {
            // One move routine per emitter in practice: the table is for it (another empties it).
            if (hit.MoveRoutine != _sharedMovesRoutine)
            {
                _sharedMoves.Clear();
                _sharedMovesRoutine = hit.MoveRoutine;
            }
            bool packed = shape.TryPack(out ulong key);
            if (packed && _sharedMoves.TryGetValue(key, out ulong known)) return known;
            CodeBuffer shapes = _shapes ??= new CodeBuffer(0);
            shapes.Reset(0);
            EmitMoveShape(shapes, shape);
            ulong copy = shared.GetOrAdd(shapes.Bytes, hit.MoveRoutine);
            if (copy != 0 && packed) _sharedMoves[key] = copy;
            return copy;
        }
        if (hit.Rule is { } rule)
        {
            // Only the shape's fields: the destination, second register and immediate are the operands'.
            RegisterRule key = rule with { Destination = Register.None, SecondRegister = Register.None, Immediate = 0 };
            if (hit.RegisterRoutine != _sharedRulesRoutine)
            {
                _sharedRules.Clear();
                _sharedRulesRoutine = hit.RegisterRoutine;
            }
            if (_sharedRules.TryGetValue(key, out ulong known)) return known;
            CodeBuffer shapes = _shapes ??= new CodeBuffer(0);
            shapes.Reset(0);
            key.EmitShape(shapes);
            ulong copy = shared.GetOrAdd(shapes.Bytes, hit.RegisterRoutine);
            if (copy != 0) _sharedRules[key] = copy;
            return copy;
        }
        return 0;
    }

    // By the shape packed into a word (MoveShape.TryPack): keyed by the (shape, routine) tuple, the
    // lookup's hashing and comparing of seven fields through the default comparers was ~2% of
    // checked translation on cc1plus.
    private readonly Dictionary<ulong, ulong> _sharedMoves = [];
    private ulong _sharedMovesRoutine;
    // By the rule's shape, hashed by RuleShapes (the tuple of rule and routine through the default
    // comparers was ~1% of checked translation on cc1plus); one register routine per emitter in practice.
    private readonly Dictionary<RegisterRule, ulong> _sharedRules = new(RuleShapes.Instance);
    private ulong _sharedRulesRoutine;

    /// <summary>Rules compared member-wise, hashed by mixing their fields directly.</summary>
    private sealed class RuleShapes : IEqualityComparer<RegisterRule>
    {
        public static readonly RuleShapes Instance = new();

        public bool Equals(RegisterRule a, RegisterRule b) => a == b;

        public int GetHashCode(RegisterRule r)
        {
            ulong h = (ulong)(uint)r.Operation | (ulong)(byte)r.Destination << 8 | (ulong)(ushort)r.DestinationSlot << 16
                | (ulong)(byte)r.DestinationBit << 32 | (ulong)(byte)r.DestinationSize << 40 | (r.Writes ? 1UL : 0) << 48
                | (ulong)(byte)r.SecondRegister << 56;
            h = (h ^ r.Immediate) * 0x9E3779B97F4A7C15UL;
            h = (h ^ r.SizeMask) * 0x9E3779B97F4A7C15UL;
            h = (h ^ r.ReplaceMask) * 0x9E3779B97F4A7C15UL;
            h = (h ^ r.FlagsKept ^ r.FlagsWritten << 1) * 0x9E3779B97F4A7C15UL;
            h = (h ^ (ulong)(ushort)r.SourceSlot ^ (ulong)(byte)r.SourceBit << 16 ^ (ulong)(uint)r.Copy << 24 ^ (ulong)(uint)r.ZeroTo << 40) * 0x9E3779B97F4A7C15UL;
            return (int)(h >> 32);
        }
    }
    private SharedCode? _shared;

    /// <summary>Shape stores shared between hits (<see cref="Hit.EmitShared"/>); null: every hit has its own.</summary>
    public SharedCode? Shared
    {
        get => _shared;
        set
        {
            if (value == _shared) return;
            _shared = value;
            _sharedMoves.Clear();
            _sharedMovesRoutine = 0;
            _sharedRules.Clear();
            _sharedRulesRoutine = 0;
        }
    }
    // The shape stores of the hit being emitted, before they are looked up (position-independent).
    private CodeBuffer? _shapes;

    private readonly List<Hit> _hits = [];

    /// <summary>
    /// Inputs all defined: what the instruction writes whole is defined (<see cref="DefinedOutputs"/>):
    /// its dirty bits cleared flag-free (pext and pdep by the bits kept) and its shadow slots zeroed
    /// (a clean register's slot is all zero: the move routine ORs whole slots).
    /// </summary>
    private void EmitDefine(CodeBuffer code, DefinedOutputs.Split split)
    {
        ulong keep = ~split.Cleared;
        code.LoadSlot(Register.RCX, MemcheckSlots.Dirty);
        EmitRipForm(code, PextRcxRip);
        _masks.Add((code.Length - 4, keep));
        EmitRipForm(code, PdepRcxRip);
        _masks.Add((code.Length - 4, keep));
        code.StoreSlot(MemcheckSlots.Dirty, Register.RCX);
        foreach (Register register in split.Registers)
            code.SetSlot64(ShadowRegisters.SlotOf(register)!.Value.Offset, 0);
        if (split.Flags) code.SetSlot64(MemcheckSlots.FlagsShadow, 0);
    }

    /// <summary>
    /// Bytes a skip over the inputs' test and <see cref="EmitDefine"/> jumps (jrcxz's rel8 must reach):
    /// load of Dirty 9, pext 9, jrcxz 2, jmp 5; the define's load, pext, pdep, store 36 and 13 per zeroed slot.
    /// </summary>
    private static int SkipReach(DefinedOutputs.Split split) => 25 + 36 + 13 * (split.Registers.Count + (split.Flags ? 1 : 0));

    private readonly record struct MoveShape(int Size, int Slot, int Bit, int FullSize, int ZeroTo, bool Store, int AddressBits)
    {
        /// <summary>Every field in one word (a distinct word per shape); false when one is out of the packed range.</summary>
        public bool TryPack(out ulong key)
        {
            key = (ulong)Size | (ulong)Slot << 7 | (ulong)Bit << 23 | (ulong)FullSize << 29 | (ulong)ZeroTo << 36 | (Store ? 1UL : 0) << 43
                | (ulong)AddressBits << 44;
            return (uint)Size < 128 && (uint)Slot < 0x10000 && (uint)Bit < 64 && (uint)FullSize < 128 && (uint)ZeroTo < 128 && (uint)AddressBits < 0x10000;
        }
    }

    /// <summary>
    /// A plain move between a register and memory that <see cref="ShadowMoveRoutine"/> can do:
    /// mov/movzx/movdqu/vmovdqu... of up to 64 bytes, no mask, an address computed again
    /// (<see cref="AddressCanBeRepeated"/>; no fs/gs), a general register of 4 or 8 bytes (or any
    /// size as a store's source) or a vector one.
    /// </summary>
    /// <summary>Whether <paramref name="ins"/> is a store <see cref="ShadowMoveRoutine"/> does when its pre-check hits (with <see cref="InlineMoves"/>).</summary>
    public bool SetsStoredLanes(int index) => InlineMoves && _moves[index] is { Store: true };

    /// <summary>A plain copy's store (<see cref="EmitPlainCopy"/>): the stored register's dirty bit, whose pre-check runs the move routine; else -1.</summary>
    public int StoredDirtyBit(int index) => _moves[index] is { Store: true } move && move.Bit < 31 ? move.Bit : -1;

    private static MoveShape? InlineMove(in Instruction ins)
    {
        // The operands' kinds first (fields of the instruction): most instructions are no register-memory
        // pair, and the rule's lookup (x87, string, condition tests) was ~1% of checked translation.
        if (ins.OpCount != 2) return null;
        bool store = ins.Op0Kind == OpKind.Memory;
        if (store ? ins.Op1Kind != OpKind.Register : ins.Op0Kind != OpKind.Register || ins.Op1Kind != OpKind.Memory) return null;
        if (PropagationRules.Of(ins) != PropagationRule.Move || ins.OpMask != Register.None || ins.IsBroadcast) return null;
        if (ins.SegmentPrefix is Register.FS or Register.GS || !AddressCanBeRepeated(ins)) return null;
        Register register = store ? ins.Op1Register : ins.Op0Register;
        if (register is >= Register.AH and <= Register.BH) return null;
        int size = ins.MemorySize.GetSize();
        if (size is not (1 or 2 or 4 or 8 or 16 or 32 or 64) || ShadowRegisters.SlotOf(register) is not { } slot) return null;
        int zeroTo;
        if (register.IsGPR())
        {
            if (!store && register.Bytes() < 4) return null;   // a partial write keeps the rest: C#
            zeroTo = 8;
        }
        else if (register.IsXMM() || register.IsYMM() || register.IsZMM()) zeroTo = ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX ? 64 : 16;
        else return null;
        int addressBits = AddressBit(ins.MemoryBase) | AddressBit(ins.MemoryIndex);
        return new MoveShape(size, slot.Offset, slot.Bit, slot.FullSize, zeroTo, store, addressBits);
    }

    /// <summary>
    /// Whether <see cref="EmitMoveOperands"/> can compute the operand's address: a base register (lea
    /// repeats it), a rip-relative or absolute address (a constant: PIE code's globals, non-PIE code's
    /// tables; cc1plus's movdqa of [abs] constants took ~12,000 C# exits), or an index with a
    /// displacement lea can encode (sign-extended 32 bits).
    /// </summary>
    private static bool AddressCanBeRepeated(in Instruction ins) =>
        ins.MemoryBase != Register.None || ins.IsIPRelativeMemoryOperand
        || (ins.MemoryIndex == Register.None ? ins.MemoryDisplacement64 < 1UL << 47
            : ins.MemoryIndex.IsGPR64() && (long)ins.MemoryDisplacement64 == (int)ins.MemoryDisplacement64);

    private static int AddressBit(Register r) =>
        r.IsGPR() && ShadowRegisters.DirtyBit(r) is int bit and >= 0 and < 16 ? 1 << bit : 0;

    private static void EmitMove(CodeBuffer code, in Instruction ins, MoveShape move, int site, ulong moveRoutine)
    {
        EmitMoveOperands(code, ins, site);
        EmitMoveShape(code, move);
        JumpAndLink.Emit(code, moveRoutine);
    }

    /// <summary>A move's address and site (registers hold their guest values).</summary>
    private static void EmitMoveOperands(CodeBuffer code, in Instruction ins, int site)
    {
        code.StoreSlot(MemcheckSlots.MoveTemp, Register.RAX);
        if (ins.IsIPRelativeMemoryOperand || (ins.MemoryBase == Register.None && ins.MemoryIndex == Register.None))
        {
            // A constant address: the rip of the guest's instruction is not the translation's.
            ulong address = ins.IsIPRelativeMemoryOperand ? ins.IPRelativeMemoryAddress : ins.MemoryDisplacement64;
            code.Encode(Instruction.Create(Code.Mov_r64_imm64, Register.RAX, address));
        }
        else
        {
            var operand = new MemoryOperand(ins.MemoryBase, ins.MemoryIndex, ins.MemoryIndexScale, (long)ins.MemoryDisplacement64,
                ins.MemoryDisplacement64 == 0 ? 0 : ins.MemoryBase == Register.None ? 4 : 8);
            bool narrow = ins.MemoryBase.IsGPR32();
            code.Encode(Instruction.Create(narrow ? Code.Lea_r32_m : Code.Lea_r64_m, narrow ? Register.EAX : Register.RAX, operand));
        }
        code.StoreSlot(MemcheckSlots.MoveAddress, Register.RAX);
        code.LoadSlot(Register.RAX, MemcheckSlots.MoveTemp);
        code.SetSlot32(MemcheckSlots.PropagateSite, site);
    }

    /// <summary>The move's shape slots (the same for every move of the shape).</summary>
    private static void EmitMoveShape(CodeBuffer code, MoveShape move)
    {
        void Set(int slot, int value) => code.SetSlot32(slot, value);
        Set(MemcheckSlots.MoveSize, move.Size);
        Set(MemcheckSlots.MoveSlot, move.Slot);
        Set(MemcheckSlots.MoveZeroTo, move.ZeroTo);
        Set(MemcheckSlots.MoveBit, move.Bit);
        Set(MemcheckSlots.MoveFullSize, move.FullSize);
        Set(MemcheckSlots.MoveStore, move.Store ? 1 : 0);
        Set(MemcheckSlots.MoveAddressBits, move.AddressBits);
    }

    /// <summary>
    /// At the start of a propagating-mode block: run only when asked (the forced bit, set by mode 0's
    /// undefined read or a plain block's guard), clearing the request; reached otherwise (a link, a
    /// lookup), leave for the dispatcher at <paramref name="pc"/>, which picks the mode. pext/pdep and
    /// jrcxz: no flag is touched.
    /// <code>
    ///   mov gs:[PrecheckSaveRcx], rcx ; mov rcx, gs:[Dirty] ; pext rcx, rcx, [rip+forced] ; jrcxz +5 ; jmp stay
    ///   mov rcx, gs:[PrecheckSaveRcx] ; (exit to pc in the plain mode)
    ///   stay: mov rcx, gs:[Dirty] ; pext rcx, rcx, [rip+m] ; pdep rcx, rcx, [rip+m] ; mov gs:[Dirty], rcx ; mov rcx, gs:[PrecheckSaveRcx]
    /// </code>
    /// </summary>
    public void EmitBlockEntry(CodeBuffer code, ulong pc, Action<CodeBuffer, ulong, int> exitTo)
    {
        code.StoreSlot(MemcheckSlots.PrecheckSaveRcx, Register.RCX);
        code.LoadSlot(Register.RCX, MemcheckSlots.Dirty);
        // Neither asked for nor using an undefined register (reached by a link or a lookup): leave,
        // the dispatcher picks the mode. A loop over undefined data stays here, linked.
        EmitRipForm(code, PextRcxRip);
        // Registers the block only copies leave it to the plain mode, which copies them (FindPlainCopies):
        // a copy loop entered propagating goes back to the plain mode after one round.
        _masks.Add((code.Length - 4, _blockMask & ~_copyRegisters | 1UL << ShadowRegisters.ForcedBit));
        code.Byte(0xE3);
        code.Byte(5);
        code.Byte(0xE9);
        int stayField = code.Length;
        code.Int32(0);
        // Leaving: the plain mode when every general register and the flags are defined (as the
        // dispatcher would pick), else the guarded one, whose block entry sends the thread back here
        // when its block uses an undefined register. Always guarded, cc1plus translated ~13K blocks
        // a second time, for the runs after a propagated block that left nothing undefined.
        code.LoadSlot(Register.RCX, MemcheckSlots.Dirty);
        EmitRipForm(code, PextRcxRip);
        _masks.Add((code.Length - 4, ShadowRegisters.GeneralBits));
        code.Byte(0xE3);
        code.Byte(5);
        code.Byte(0xE9);
        int guardedField = code.Length;
        code.Int32(0);
        code.LoadSlot(Register.RCX, MemcheckSlots.PrecheckSaveRcx);
        exitTo(code, pc, DefinednessMode.Plain);
        code.PatchInt32(guardedField, code.Length - (guardedField + 4));
        code.LoadSlot(Register.RCX, MemcheckSlots.PrecheckSaveRcx);
        exitTo(code, pc, DefinednessMode.Guarded);
        code.PatchInt32(stayField, code.Length - (stayField + 4));
        code.LoadSlot(Register.RCX, MemcheckSlots.Dirty);
        ulong keep = ~(1UL << ShadowRegisters.ForcedBit);
        EmitRipForm(code, PextRcxRip);
        _masks.Add((code.Length - 4, keep));
        EmitRipForm(code, PdepRcxRip);
        _masks.Add((code.Length - 4, keep));
        code.StoreSlot(MemcheckSlots.Dirty, Register.RCX);
        code.LoadSlot(Register.RCX, MemcheckSlots.PrecheckSaveRcx);
    }

    /// <summary>
    /// The plain mode's block entry: when a register (or the flags) the block uses is undefined, set
    /// the forced bit and leave for the propagating fragment at <paramref name="pc"/>. Every plain
    /// block has it, so its common path is short and falls through; the switch is out of line, after
    /// the block (<see cref="PropagatingSwitches"/>). With the flags dead at the block's start (most
    /// blocks), Dirty's halves tested against the block's mask, no register and no store:
    /// <code>
    ///   test dword gs:[Dirty], low ; jnz switch ; test byte gs:[Dirty+7], high ; jnz switch
    ///   ... switch: or byte gs:[Dirty+7], 0x40 ; (exit to pc, propagating)
    /// </code>
    /// with the flags live, flag-free, rcx borrowed (the forced bit is bit 6 of Dirty's top byte,
    /// clear in the plain mode, so a lea adds it):
    /// <code>
    ///   mov gs:[PrecheckSaveRcx], rcx ; mov ecx, blockMask ; pext rcx, rcx, gs:[Dirty] ; jrcxz pass ; jmp switch
    ///   pass: mov rcx, gs:[PrecheckSaveRcx]
    ///   ... switch: mov cl, gs:[Dirty+7] ; lea ecx, [rcx+0x40] ; mov gs:[Dirty+7], cl ; mov rcx, gs:[PrecheckSaveRcx] ; (exit to pc, propagating)
    /// </code>
    /// </summary>
    /// <param name="keeper">As <see cref="EmitBefore"/>'s: where rcx is kept with live flags (a register dead at the block's start).</param>
    /// <param name="exempt">Dirty bits not tested: known clear in the block's mode (<see cref="DefinednessMode.Plain"/>'s general registers and flags).</param>
    public void EmitGuard(CodeBuffer code, ulong pc, bool flagsDead, PropagatingSwitches switches, Register keeper = Register.None, ulong exempt = 0)
    {
        ulong mask = _blockMask & ~_copyRegisters & ~exempt;
        if (mask == 0) return;
        if (flagsDead)
        {
            // Dirty's low and high dwords tested apart (an imm32 is sign-extended): no register, no store.
            uint low = (uint)mask, high = (uint)(mask >> 32);
            if (low != 0)
            {
                EmitTest(code, MemcheckSlots.Dirty, low);
                switches.JumpIfNotZero(code);
            }
            if (high != 0)
            {
                EmitTest(code, MemcheckSlots.Dirty + 4, high);
                switches.JumpIfNotZero(code);
            }
            switches.Add(pc, flagsLive: false);
            return;
        }
        // pext of the mask by Dirty: not zero iff a bit of the mask is dirty. The mask as an immediate,
        // not a constant after the fragment: no data load from the code cache's lines (that load was
        // 5% of sqlite's samples, every indirect branch landing on a block head).
        SaveRcx(code, keeper);
        code.Encode(mask <= uint.MaxValue
            ? Instruction.Create(Code.Mov_r32_imm32, Register.ECX, (uint)mask)
            : Instruction.Create(Code.Mov_r64_imm64, Register.RCX, mask));
        code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, ContextOperand.Slot(MemcheckSlots.Dirty)));
        code.Raw([0xE3, 0x05]);   // jrcxz over the jmp
        switches.Jump(code);
        switches.Add(pc, flagsLive: true, keeper);
        RestoreRcx(code, keeper);
    }

    /// <summary><c>test gs:[slot], bits</c> with the narrowest operand that holds them (a byte when they fit one).</summary>
    private static void EmitTest(CodeBuffer code, int slot, uint bits)
    {
        for (int i = 0; i < 4; i++)
            if ((bits & ~(0xffu << (8 * i))) == 0)
            {
                code.TestSlot8(slot + i, (byte)(bits >> (8 * i)));
                return;
            }
        code.TestSlot32(slot, unchecked((int)bits));
    }

    // pext/pdep rcx, rcx, [rip+disp32] without the displacement, which EmitConstants patches to
    // the mask: the same bytes for every pre-check, where Iced encoded each again (RIP-relative
    // forms are not kept by EncodedForms).
    private static readonly byte[] PextRcxRip = RipForm(Code.VEX_Pext_r64_r64_rm64), PdepRcxRip = RipForm(Code.VEX_Pdep_r64_r64_rm64);

    private static byte[] RipForm(Code code)
    {
        var buffer = new CodeBuffer(0x1000);
        buffer.Encode(Instruction.Create(code, Register.RCX, Register.RCX, new MemoryOperand(Register.RIP, 0x1000)));
        return buffer.Bytes[..^4].ToArray();
    }

    /// <summary>A RIP-relative form with its displacement left for <see cref="EmitConstants"/> (the caller adds it to the masks).</summary>
    private static void EmitRipForm(CodeBuffer code, byte[] form)
    {
        code.Raw(form);
        code.Int32(0);
    }

    /// <summary>The lazy hits' exit (<see cref="LazyHits"/>); 0: every hit path is made with its fragment.</summary>
    public ulong LazyHitRoutine { get; set; }

    /// <summary>The hit paths (lazy ones where <see cref="LazyHitRoutine"/> is set) and the 8-byte masks the pre-checks read, after everything else of the fragment.</summary>
    public void EmitConstants(CodeBuffer code)
    {
        foreach (Hit hit in _hits)
        {
            var lazy = new LazyHits.Parameters(hit.Site, code.BaseAddress + (ulong)hit.Done, !hit.RcxSaved, hit.Keeper);
            if (LazyHitRoutine != 0 && LazyHits.Fits(lazy, code.CurrentAddress))
            {
                code.PatchRel32(hit.Field, LazyHits.Emit(code, lazy, LazyHitRoutine));
                continue;
            }
            code.PatchInt32(hit.Field, code.Length - (hit.Field + 4));
            if (Shared != null && SharedCopy(hit) is var copy and not 0)
            {
                hit.EmitShared(code, copy);
                continue;
            }
            hit.Emit(code);
            code.Byte(0xE9);
            code.Int32(hit.Done - (code.Length + 4));
        }
        _hits.Clear();
        if (_masks.Count == 0) return;
        while (code.Length % 8 != 0) code.Byte(0xCC);
        Span<byte> bytes = stackalloc byte[8];
        // One copy of each distinct mask (a block's instructions share most of theirs), in the order
        // first used: the first FewMasks distinct ones found by a scan (a fragment has a handful; the
        // dictionary's clear and lookups were ~1% of checked translation), any more in the dictionary.
        _maskAt.Clear();
        Span<ulong> few = stackalloc ulong[FewMasks], fewAt = stackalloc ulong[FewMasks];
        int distinct = 0;
        foreach ((int field, ulong mask) in _masks)
        {
            int known = few[..Math.Min(distinct, FewMasks)].IndexOf(mask);
            ulong at = known >= 0 ? fewAt[known] : 0;
            if (known < 0 && (distinct <= FewMasks || !_maskAt.TryGetValue(mask, out at)))
            {
                at = code.CurrentAddress;
                if (distinct < FewMasks) (few[distinct], fewAt[distinct]) = (mask, at);
                else _maskAt[mask] = at;
                distinct++;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, mask);
                code.Raw(bytes);
            }
            code.PatchRel32(field, at);
        }
        _masks.Clear();
    }

    /// <summary>
    /// The hit path the lazy hit whose lea is at <paramref name="lea"/> stands for (<see cref="LazyHits"/>),
    /// made at the end of <paramref name="region"/> as <see cref="EmitConstants"/> would have made it,
    /// from the instruction of its propagation site in <paramref name="definedness"/>, and the lazy hit
    /// turned into a jump to it. Returns the lazy hit's start (where the thread resumes) and whether its
    /// rcx waits in gs:[PrecheckSaveRcx] (a plain copy's). Under the cache's lock; the emitter must be
    /// set up as the translating one (<see cref="InlineMoves"/>, <see cref="RegisterRoutine"/>, <see cref="Shared"/>).
    /// </summary>
    public unsafe (ulong Start, bool RcxSaved) MakeHit(ulong lea, CodeRegion region, DefinednessChecks definedness)
    {
        (ulong start, LazyHits.Parameters p) = LazyHits.Read(lea);
        if (*(byte*)start == 0xE9) return (start, p.PlainCopy);   // another thread made it first
        Instruction ins = definedness.SiteInstruction(p.Site);
        CodeBuffer code = _made ??= new CodeBuffer(0);
        code.Reset(region.Peek(16));
        int done = checked((int)((long)p.Resume - (long)code.BaseAddress));
        Hit hit;
        if (p.PlainCopy)
        {
            hit = new Hit(0, done, ins, InlineMove(ins), null, p.Site, definedness.PropagateRoutine, definedness.MoveRoutine, RegisterRoutine, RcxSaved: false);
        }
        else
        {
            // As EmitBefore: pop r64 moves [rsp] into the register.
            Instruction asMove = Instrumentation.PopProbe.Applies(ins)
                ? Instruction.Create(Code.Mov_r64_rm64, ins.Op0Register, new MemoryOperand(Register.RSP)) : ins;
            MoveShape? move = InlineMoves ? InlineMove(asMove) : null;
            RegisterRule? register = move == null && InlineMoves && RegisterRoutine != 0 ? RegisterRule.Of(asMove) : null;
            hit = new Hit(0, done, asMove, move, register, p.Site, definedness.PropagateRoutine, definedness.MoveRoutine, RegisterRoutine, Keeper: p.Keeper);
        }
        if (Shared != null && SharedCopy(hit) is var copy and not 0)
        {
            hit.EmitShared(code, copy);
        }
        else
        {
            hit.Emit(code);
            code.Byte(0xE9);
            code.Int32(hit.Done - (code.Length + 4));
        }
        ulong at = region.Allocate((ulong)code.Length, 16);
        if (at != code.BaseAddress) throw new InvalidOperationException("the code region moved under a hit path being made");
        CodeRegion.Write(at, code.Bytes);
        if (Engine.Translation.BlockTranslator.Trace)
            Console.Error.WriteLine($"memcheck-trace: routine hit of site {p.Site} at 0x{at:x}+{code.Length} {Convert.ToHexString(code.Bytes)}");
        Instrumentation.LazyStubs.Redirect(start, at);
        return (start, p.PlainCopy);
    }

    private CodeBuffer? _made;

    /// <summary>Dirty bits the instruction depends on: every register it reads or writes, the flags if it reads or sets them, the pending bit.</summary>
    private static ulong MaskOf(in Instruction ins, ReadOnlySpan<UsedRegister> registers, RflagsBits flags)
    {
        ulong mask = 1UL << ShadowRegisters.PendingBit;
        // Registers (a memory operand's base and index are among them).
        foreach (UsedRegister used in registers)
            if (ShadowRegisters.DirtyBit(used.Register) is int bit and >= 0) mask |= 1UL << bit;
        if (((ulong)flags & ShadowRegisters.StatusFlags) != 0) mask |= 1UL << ShadowRegisters.FlagsBit;
        // x87: pushes and fnstsw name no st register; every x87 instruction depends on the x87 state's bit.
        if (X87Shadows.Touches(ins)) mask |= 1UL << ShadowRegisters.X87Bit;
        return mask;
    }
}
