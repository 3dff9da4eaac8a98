using System.Buffers.Binary;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The propagating mode's C# end: before an instruction runs, its significant uses are checked
/// (<see cref="UseChecks"/>) and its outputs' shadows computed from its inputs' by the rule the
/// table gives (<see cref="PropagationRules"/>), with the guest's values where a rule needs them.
/// Shadows are little-endian byte spans, a set bit an undefined bit. The rules are grouped by family
/// in the other parts of this class: operand access (Propagator.Operands.cs), general-purpose
/// instructions (.Alu), element-wise and scalar vector ops (.Vector), lane movement (.Lanes,
/// .Permutes, .Inserts), gathers and scatters (.Gathers), x87 (.X87).
/// </summary>
internal sealed unsafe partial class Propagator(MemoryDefinedness memory, UseChecks uses, Origins? origins = null)
{
    private readonly InstructionInfoFactory _info = new();

    // The origin of the instruction's undefined inputs, while it is propagated (--track-origins).
    private ulong _origin;

    public void Before(ContextBlock* c, in Instruction ins)
    {
        uses.Check(c, ins);
        if (origins == null)
        {
            Apply(c, ins);
            return;
        }
        Origins.ReadingAt(c, ins.IP);
        _origin = InputOrigin(c, ins);
        Apply(c, ins);
        Origins.ReadingAt(null, 0);
        origins.Assign(c, _origin, _info.GetInfo(ins), ins);
        _origin = 0;
    }

    /// <summary>Where the first undefined input came from: a register's or the flags' origin, or the memory operand's.</summary>
    private ulong InputOrigin(ContextBlock* c, in Instruction ins)
    {
        ulong dirty = ShadowRegisters.Dirty(c);
        foreach (UsedRegister used in _info.GetInfo(ins).GetUsedRegisters())
        {
            if (used.Access is not (OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite)) continue;
            if (ShadowRegisters.DirtyBit(used.Register) is int bit and >= 0 && ((dirty >> bit) & 1) != 0 && origins!.OfRegister(used.Register) is ulong o and not 0)
                return o;
        }
        if (((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0 && origins!.OfFlags != 0) return origins.OfFlags;
        for (int op = 0; op < ins.OpCount; op++)
        {
            if (ins.GetOpKind(op) != OpKind.Memory) continue;
            ulong address = GuestValues.Address(c, ins);
            if (memory.UndefinedSpan(address, (ulong)Math.Max(1, OperandSize(ins, op))) is { } span) return origins!.OfMemory(span.First);
        }
        if (ins.IsStringInstruction && memory.UndefinedSpan(c->Rsi, 8) is { } source) return origins!.OfMemory(source.First);
        // fnstsw reads the condition codes, which Iced counts as no register: the x87 state's origin.
        if (((dirty >> ShadowRegisters.X87Bit) & 1) != 0 && X87Shadows.Touches(ins)) return origins!.OfRegister(Register.ST0);
        return 0;
    }

    private void Apply(ContextBlock* c, in Instruction ins)
    {
        PropagationRule rule = RuleOf(ins);
        switch (rule)
        {
            case PropagationRule.None: return;
            case PropagationRule.Define: DefineOutputs(c, ins); return;
            case PropagationRule.Move or PropagationRule.MoveSignExtend: Move(c, ins, rule == PropagationRule.MoveSignExtend); return;
            case PropagationRule.MoveLowElement: MoveLowElement(c, ins); return;
            case PropagationRule.And or PropagationRule.Or or PropagationRule.Xor or PropagationRule.AndNot: Bitwise(c, ins, rule); return;
            case PropagationRule.Arith: Arith(c, ins); return;
            case PropagationRule.Shift: Shift(c, ins); return;
            case PropagationRule.SignFill: SignFill(c, ins); return;
            case PropagationRule.Elementwise: Elementwise(c, ins); return;
            case PropagationRule.Scalar: Scalar(c, ins); return;
            case PropagationRule.ScalarUnary: ScalarUnary(c, ins); return;
            case PropagationRule.ConvertPacked: ConvertPacked(c, ins); return;
            case PropagationRule.CompareLowElement: CompareLowElement(c, ins); return;
            case PropagationRule.MoveMask: MoveMask(c, ins); return;
            case PropagationRule.ScanForward or PropagationRule.ScanReverse: Scan(c, ins, rule == PropagationRule.ScanForward); return;
            case PropagationRule.PopCount: PopCount(c, ins); return;
            case PropagationRule.VectorShift: VectorShift(c, ins); return;
            case PropagationRule.SetCondition: SetCondition(c, ins); return;
            case PropagationRule.MoveIfCondition: MoveIfCondition(c, ins); return;
            case PropagationRule.Exchange: Exchange(c, ins); return;
            case PropagationRule.ExchangeAdd: ExchangeAdd(c, ins); return;
            case PropagationRule.Push: Push(c, ins); return;
            case PropagationRule.Pop: Pop(c, ins); return;
            case PropagationRule.String: StringOp(c, ins); return;
            case PropagationRule.Interleave: Interleave(c, ins); return;
            case PropagationRule.ShuffleImmediate: ShuffleImmediate(c, ins); return;
            case PropagationRule.BitTest: BitTest(c, ins); return;
            case PropagationRule.HalfMove: HalfMove(c, ins); return;
            case PropagationRule.Extract: Extract(c, ins); return;
            case PropagationRule.ShuffleTwoSources: ShuffleTwoSources(c, ins); return;
            case PropagationRule.BytePermute: BytePermute(c, ins); return;
            case PropagationRule.X87: X87(c, ins); return;
            case PropagationRule.FlagsByte: FlagsByte(c, ins); return;
            case PropagationRule.PermuteVariable: PermuteVariable(c, ins); return;
            case PropagationRule.PermuteTwoTables: PermuteTwoTables(c, ins); return;
            case PropagationRule.PermuteInLane: PermuteInLane(c, ins); return;
            case PropagationRule.PermuteHalves: PermuteHalves(c, ins); return;
            case PropagationRule.AlignElements: AlignElements(c, ins); return;
            case PropagationRule.InsertBlock: InsertBlock(c, ins); return;
            case PropagationRule.ExtractBlock: ExtractBlock(c, ins); return;
            case PropagationRule.InsertElement: InsertElement(c, ins); return;
            case PropagationRule.Pack: Pack(c, ins); return;
            case PropagationRule.BroadcastBlocks: BroadcastBlocks(c, ins); return;
            case PropagationRule.Widen: Widen(c, ins); return;
            case PropagationRule.Duplicate: Duplicate(c, ins); return;
            case PropagationRule.CompressOrExpand: CompressOrExpand(c, ins); return;
            case PropagationRule.Narrow: Narrow(c, ins); return;
            case PropagationRule.Gather: Gather(c, ins); return;
            case PropagationRule.Scatter: Scatter(c, ins); return;
            default: Pessimistic(c, ins); return;
        }
    }

    // ---- rules ----

    private void DefineOutputs(ContextBlock* c, in Instruction ins)
    {
        foreach (UsedRegister used in _info.GetInfo(ins).GetUsedRegisters())
            if (used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite) ShadowRegisters.Define(c, used.Register);
        foreach (UsedMemory used in _info.GetInfo(ins).GetUsedMemory())
            if (used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite && TryAddress(c, used, out ulong a))
                memory.Define(a, (ulong)Math.Max(1, used.MemorySize.GetSize()));
        SetFlags(c, ins, false);
    }

    /// <summary>Any undefined input bit makes every output undefined; all-defined inputs define the outputs.</summary>
    private void Pessimistic(ContextBlock* c, in Instruction ins)
    {
        InstructionInfo info = _info.GetInfo(ins);
        bool undefined = ((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0;
        foreach (UsedRegister used in info.GetUsedRegisters())
            if (!undefined && used.Access is OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite
                && used.Register != Register.RSP)
                undefined = ShadowRegisters.IsUndefined(c, used.Register);
        Span<byte> shadow = stackalloc byte[64];
        foreach (UsedMemory used in info.GetUsedMemory())
        {
            if (undefined || used.Access is not (OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite)) continue;
            int size = Math.Min(64, Math.Max(1, used.MemorySize.GetSize()));
            if (TryAddress(c, used, out ulong a))
            {
                memory.Read(a, shadow[..size]);
                undefined = Any(shadow[..size]);
            }
        }
        if (undefined && ExitProfile.Enabled) ExitProfile.Pessimistic(ins);
        shadow.Fill(undefined ? (byte)0xff : (byte)0);
        foreach (UsedRegister used in info.GetUsedRegisters())
            if (used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite && used.Register != Register.RSP)
            {
                if (undefined) ShadowRegisters.Write(c, used.Register, shadow[..Math.Min(64, Math.Max(1, used.Register.Bytes()))], ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX);
                else ShadowRegisters.Write(c, used.Register, stackalloc byte[Math.Min(64, Math.Max(1, used.Register.Bytes()))], ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX);
            }
        foreach (UsedMemory used in info.GetUsedMemory())
        {
            if (used.Access is not (OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite)) continue;
            ulong size = (ulong)Math.Max(1, used.MemorySize.GetSize());
            if (!TryAddress(c, used, out ulong a)) continue;
            if (!undefined) memory.Define(a, size);
            else for (ulong done = 0; done < size; done += 64) memory.Write(a + done, shadow[..(int)Math.Min(64, size - done)]);
        }
        SetFlags(c, ins, undefined);
    }
}
