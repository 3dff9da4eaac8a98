using Checker.Engine.Emission;
using Checker.MemcheckTool.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Which register-only instructions of the propagating mode <see cref="ShadowRegisterRoutine"/> does
/// instead of the C# exit, and the slot stores that describe one to it. Only forms whose C# rule
/// (<see cref="Propagator"/>) reads nothing but the registers' shadows, the destination's value and
/// an immediate, and whose use checks (<see cref="UseChecks"/>) have nothing to check: and/or/xor/
/// add/sub/cmp/test of a general register and an immediate or another of its size, moves between
/// general and vector registers, and the zero idioms (xor r,r; sub r,r; pxor x,x...).
/// </summary>
internal readonly record struct RegisterRule(
    int Operation, Register Destination, int DestinationSlot, int DestinationBit, int DestinationSize, bool Writes,
    ulong Immediate, ulong SizeMask, ulong ReplaceMask, ulong FlagsKept, ulong FlagsWritten,
    int SourceSlot, int SourceBit, int Copy, int ZeroTo, Register SecondRegister)
{
    public static RegisterRule? Of(in Instruction ins)
    {
        if (ins.OpMask != Register.None || ins.HasLockPrefix || ins.OpCount < 2 || ins.Op0Kind != OpKind.Register) return null;
        PropagationRule rule = PropagationRules.Of(ins);
        Register destination = ins.Op0Register;
        if (destination is >= Register.AH and <= Register.BH || ShadowRegisters.SlotOf(destination) is not { } slot) return null;
        if (!destination.IsGPR() && !destination.IsXMM() && !destination.IsYMM() && !destination.IsZMM()) return null;
        ulong modified = (ulong)ins.RflagsModified & ShadowRegisters.StatusFlags;
        ulong written = (ulong)ins.RflagsWritten & ShadowRegisters.StatusFlags;
        bool vex = ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX;
        int size = destination.Bytes();

        // The zero idioms: a defined zero whatever the source held.
        int first = ins.OpCount == 3 ? 1 : 0, second = first + 1;
        if (ins.OpCount <= 3 && ins.GetOpKind(first) == OpKind.Register && ins.GetOpKind(second) == OpKind.Register
            && ins.GetOpRegister(first) == ins.GetOpRegister(second)
            && (rule is PropagationRule.Xor or PropagationRule.AndNot || (rule == PropagationRule.Arith && ins.Mnemonic == Mnemonic.Sub && ins.OpCount == 2)))
        {
            if (size < 4) return null;
            return MoveOf(destination, slot, sourceSlot: 0, sourceBit: -1, copy: 0, vex, modified);
        }

        if (rule == PropagationRule.Move && ins.OpCount == 2 && ins.Op1Kind == OpKind.Register)
        {
            Register source = ins.Op1Register;
            if (size < 4 || source is >= Register.AH and <= Register.BH || ShadowRegisters.SlotOf(source) is not { } from) return null;
            if (!source.IsGPR() && !source.IsXMM() && !source.IsYMM() && !source.IsZMM()) return null;
            int copy = Math.Min(source.Bytes(), size);
            return MoveOf(destination, slot, from.Offset, from.Bit, copy, vex, 0);
        }

        int operation = ins.Mnemonic switch
        {
            Mnemonic.And or Mnemonic.Test => ShadowRegisterRoutine.And,
            Mnemonic.Or => ShadowRegisterRoutine.Or,
            Mnemonic.Xor => ShadowRegisterRoutine.Xor,
            Mnemonic.Add => ShadowRegisterRoutine.Add,
            Mnemonic.Sub or Mnemonic.Cmp => ShadowRegisterRoutine.Sub,
            _ => -1,
        };
        if (operation < 0 || ins.OpCount != 2 || !destination.IsGPR()) return null;
        // The second operand: an immediate (defined) or a general register of the same size.
        Register other = Register.None;
        (int Offset, int Bit, int FullSize) otherSlot = (0, -1, 0);
        if (ins.Op1Kind == OpKind.Register)
        {
            other = ins.Op1Register;
            if (!other.IsGPR() || other.Bytes() != size || other is >= Register.AH and <= Register.BH) return null;
            // add r,r is r << 1 (Valgrind's exact rewrite), not the routine's smearing add: the C# rule.
            if (operation == ShadowRegisterRoutine.Add && other == destination) return null;
            otherSlot = ShadowRegisters.SlotOf(other)!.Value;
        }
        else if (!IsImmediate(ins.Op1Kind)) return null;
        ulong sizeMask = size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
        bool writes = ins.Mnemonic is not (Mnemonic.Test or Mnemonic.Cmp);
        // A 32-bit write zeroes the upper half; 8- and 16-bit writes keep the rest.
        ulong replace = size >= 4 ? ulong.MaxValue : sizeMask;
        return new RegisterRule(operation, destination, slot.Offset, slot.Bit, slot.FullSize, writes,
            other == Register.None ? ins.GetImmediate(1) & sizeMask : 0, sizeMask, replace, ~modified, written, otherSlot.Offset, otherSlot.Bit, 0, 0, other);
    }

    private static RegisterRule MoveOf(Register destination, (int Offset, int Bit, int FullSize) slot, int sourceSlot, int sourceBit, int copy, bool vex, ulong modified)
    {
        int size = destination.Bytes();
        // As ShadowRegisters.Write: a 32-bit general register clears its upper half, a VEX/EVEX write the rest of the zmm.
        int zeroTo = destination.IsGPR() ? 8 : vex ? 64 : size;
        ulong copyMask = copy >= 8 ? ulong.MaxValue : (1UL << (8 * copy)) - 1;
        return new RegisterRule(ShadowRegisterRoutine.Move, destination, slot.Offset, slot.Bit, slot.FullSize, true, 0,
            copyMask, 0, ~modified, 0, sourceSlot, sourceBit, copy, zeroTo, Register.None);
    }

    private static bool IsImmediate(OpKind kind) => kind is OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32
        or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64;

    /// <summary>The hit path's stores of this rule's slots (registers hold their guest values), then the jump-and-link.</summary>
    public void Emit(CodeBuffer code, ulong routine)
    {
        EmitOperands(code);
        EmitShape(code);
        JumpAndLink.Emit(code, routine);
    }

    /// <summary>What differs between instructions of one shape: the operands' guest values (the registers hold them here), an immediate.</summary>
    public void EmitOperands(CodeBuffer code)
    {
        if (Operation == ShadowRegisterRoutine.Move) return;
        // The source's value in place of an immediate.
        code.Encode(ContextOperand.Store(MemcheckSlots.AluValue, Destination.Full()));
        if (SecondRegister != Register.None) code.Encode(ContextOperand.Store(MemcheckSlots.AluImmediate, SecondRegister.Full()));
        else Set64(code, MemcheckSlots.AluImmediate, Immediate);
    }

    /// <summary>The slots that follow from the instruction's form alone (<see cref="SharedCode"/> keeps one copy per distinct shape).</summary>
    public void EmitShape(CodeBuffer code)
    {
        Set(code, MemcheckSlots.AluOperation, Operation);
        Set(code, MemcheckSlots.AluDestination, DestinationSlot);
        Set(code, MemcheckSlots.AluDestinationBit, DestinationBit);
        Set(code, MemcheckSlots.AluDestinationSize, DestinationSize);
        Set(code, MemcheckSlots.AluWrites, Writes ? 1 : 0);
        Set64(code, MemcheckSlots.AluSizeMask, SizeMask);
        Set64(code, MemcheckSlots.AluFlagsKept, FlagsKept);
        Set(code, MemcheckSlots.AluSource, SourceSlot);
        Set(code, MemcheckSlots.AluSourceBit, SourceBit);
        if (Operation == ShadowRegisterRoutine.Move)
        {
            Set(code, MemcheckSlots.AluCopy, Copy);
            Set(code, MemcheckSlots.AluZeroTo, ZeroTo);
        }
        else
        {
            Set64(code, MemcheckSlots.AluReplaceMask, ReplaceMask);
            Set64(code, MemcheckSlots.AluFlagsWritten, FlagsWritten);
        }
    }

    private static void Set(CodeBuffer code, int offset, int value) => code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(offset), value));

    private static void Set64(CodeBuffer code, int offset, ulong value)
    {
        Set(code, offset, unchecked((int)value));
        Set(code, offset + 4, unchecked((int)(value >> 32)));
    }
}
