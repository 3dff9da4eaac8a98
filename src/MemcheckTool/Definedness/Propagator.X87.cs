using Checker.Engine.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Rules of the x87 instructions (<see cref="X87Shadows"/>: a register is defined or not as a whole).
/// One rule from Iced's description covers most: the inputs are the st registers it reads and the
/// memory it reads (any undefined bit makes the result undefined: loads of partly undefined bytes,
/// arithmetic, conversions); the st registers and memory it writes take that, a push sets the new
/// st0, a pop empties (defines) what it pops; compares set the condition codes they write (fcom,
/// fucom, ftst, fxam) or the status flags (fcomi, fucomi), used later at a branch. Apart: fxch
/// swaps, fcmov moves by the actual condition, fnstsw gives its destination the condition codes'
/// shadow, ffree empties, finit/emms/fnsave define everything, fincstp/fdecstp move nothing.
/// </summary>
internal sealed unsafe partial class Propagator
{
    private void X87(ContextBlock* c, in Instruction ins)
    {
        int top = X87Shadows.Top(c);
        switch (ins.Mnemonic)
        {
            case Mnemonic.Fninit or Mnemonic.Finit or Mnemonic.Emms or Mnemonic.Femms:
                X87Shadows.DefineAll(c);
                break;
            case Mnemonic.Fnsave or Mnemonic.Fsave:
                memory.Define(GuestValues.Address(c, ins), (ulong)ins.MemorySize.GetSize());
                X87Shadows.DefineAll(c);
                break;
            case Mnemonic.Fincstp or Mnemonic.Fdecstp:
                break;   // TOP moves; the physical registers keep their values and shadows
            case Mnemonic.Fxch:
            {
                int other = ins.OpCount == 2 ? ins.Op1Register - Register.ST0 : 1;
                bool st0 = X87Shadows.IsUndefined(c, top, 0);
                X87Shadows.Set(c, top, 0, X87Shadows.IsUndefined(c, top, other));
                X87Shadows.Set(c, top, other, st0);
                break;
            }
            case Mnemonic.Ffree or Mnemonic.Ffreep:
                X87Shadows.Set(c, top, ins.Op0Register - Register.ST0, false);
                if (ins.Mnemonic == Mnemonic.Ffreep) X87Shadows.Set(c, top, 0, false);
                break;
            case Mnemonic.Fnstsw or Mnemonic.Fstsw:
                Span<byte> status = stackalloc byte[2];
                ushort conditions = X87Shadows.Conditions(c);
                status[0] = (byte)conditions;
                status[1] = (byte)(conditions >> 8);
                WriteOperand(c, ins, 0, status);
                break;
            case Mnemonic.Fcmovb or Mnemonic.Fcmove or Mnemonic.Fcmovbe or Mnemonic.Fcmovu
                or Mnemonic.Fcmovnb or Mnemonic.Fcmovne or Mnemonic.Fcmovnbe or Mnemonic.Fcmovnu:
                if (((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0)
                    X87Shadows.Set(c, top, 0, true);   // an undefined condition: st0 undefined, as cmovcc's destination
                else if (ConditionHolds(FcmovCondition(ins.Mnemonic), c->Rflags))
                    X87Shadows.Set(c, top, 0, X87Shadows.IsUndefined(c, top, ins.Op1Register - Register.ST0));
                break;
            default:
                X87Generic(c, ins, top);
                break;
        }
        X87Shadows.UpdateDirty(c);
    }

    private void X87Generic(ContextBlock* c, in Instruction ins, int top)
    {
        InstructionInfo info = _info.GetInfo(ins);
        bool undefined = false;
        foreach (UsedRegister used in info.GetUsedRegisters())
            if (used.Register is >= Register.ST0 and <= Register.ST7 && IsRead(used.Access))
                undefined |= X87Shadows.IsUndefined(c, top, used.Register - Register.ST0);
        foreach (UsedMemory used in info.GetUsedMemory())
            if (IsRead(used.Access) && TryAddress(c, used, out ulong a))
                undefined |= memory.UndefinedSpan(a, (ulong)Math.Max(1, used.MemorySize.GetSize())) != null;
        foreach (UsedRegister used in info.GetUsedRegisters())
            if (used.Register is >= Register.ST0 and <= Register.ST7 && IsWrite(used.Access))
                X87Shadows.Set(c, top, used.Register - Register.ST0, undefined);
        Span<byte> fill = stackalloc byte[64];
        fill.Fill(0xff);
        foreach (UsedMemory used in info.GetUsedMemory())
        {
            if (!IsWrite(used.Access) || !TryAddress(c, used, out ulong a)) continue;
            ulong size = (ulong)Math.Max(1, used.MemorySize.GetSize());
            if (!undefined) memory.Define(a, size);
            else for (ulong done = 0; done < size; done += 64) memory.Write(a + done, fill[..(int)Math.Min(64, size - done)]);
            if (undefined) origins?.Stored(a, (int)size, _origin);
        }
        int increment = ins.GetFpuStackIncrementInfo().Increment;
        if (increment < 0) X87Shadows.Set(c, top, -1, undefined);   // the pushed value: fld, fild, fld1, fptan's 1.0 (pessimistic)
        for (int i = 0; i < increment; i++) X87Shadows.Set(c, top, i, false);   // popped: empty
        // Condition codes: compares and classifications write C0/C2/C3 from their inputs; C1 alone
        // (stack fault, rounding up) is defined; codes an instruction leaves "undefined" keep theirs.
        ushort written = X87Shadows.StatusBits(ins.RflagsWritten);
        bool compares = (written & (X87Shadows.C0 | X87Shadows.C2 | X87Shadows.C3)) != 0;
        X87Shadows.Conditions(c) = (ushort)((X87Shadows.Conditions(c) & ~written) | (compares && undefined ? written : 0));
        SetFlags(c, ins, undefined);   // fcomi/fucomi: ZF, PF, CF
    }

    private static bool IsRead(OpAccess access) => access is OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite;

    private static bool IsWrite(OpAccess access) => access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite;

    private static ConditionCode FcmovCondition(Mnemonic mnemonic) => mnemonic switch
    {
        Mnemonic.Fcmovb => ConditionCode.b,
        Mnemonic.Fcmove => ConditionCode.e,
        Mnemonic.Fcmovbe => ConditionCode.be,
        Mnemonic.Fcmovu => ConditionCode.p,
        Mnemonic.Fcmovnb => ConditionCode.ae,
        Mnemonic.Fcmovne => ConditionCode.ne,
        Mnemonic.Fcmovnbe => ConditionCode.a,
        _ => ConditionCode.np,
    };
}
