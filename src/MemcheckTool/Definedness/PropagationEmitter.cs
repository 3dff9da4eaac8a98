using Checker.Engine.Emission;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// What the propagating mode puts before each instruction: a flag-free pre-check of the thread's
/// Dirty bits against the registers the instruction uses (and the flags, and the pending bit an
/// undefined read sets), and only when one is undefined, the exit to C# that propagates it.
/// Instructions that touch only defined registers and defined memory run at nearly full speed,
/// so a register left undefined and never used again costs little.
/// <code>
///   mov gs:[PrecheckSaveRcx], rcx ; mov rcx, gs:[Dirty] ; pext rcx, rcx, [rip+mask]
///   jrcxz skip ; mov rcx, gs:[PrecheckSaveRcx] ; (propagation exit) ; jmp done
///   skip: mov rcx, gs:[PrecheckSaveRcx] ; done:
/// </code>
/// The masks live after the fragment's stubs (<see cref="EmitConstants"/>).
/// </summary>
internal sealed class PropagationEmitter
{
    private readonly InstructionInfoFactory _info = new();
    private readonly List<(int Field, ulong Mask)> _masks = [];

    public void Reset() => _masks.Clear();

    public void EmitBefore(CodeBuffer code, in Instruction ins, int site, ulong routine)
    {
        code.Encode(ContextOperand.Store(MemcheckSlots.PrecheckSaveRcx, Register.RCX));
        code.Encode(ContextOperand.Load(Register.RCX, MemcheckSlots.Dirty));
        code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, new MemoryOperand(Register.RIP, (long)code.CurrentAddress)));
        _masks.Add((code.Length - 4, MaskOf(ins)));
        code.Byte(0xE3);   // jrcxz skip
        int skipField = code.Length;
        code.Byte(0);
        code.Encode(ContextOperand.Load(Register.RCX, MemcheckSlots.PrecheckSaveRcx));
        PropagationRoutine.EmitCall(code, site, routine);
        code.Byte(0xEB);   // jmp done
        int doneField = code.Length;
        code.Byte(0);
        code.PatchByte(skipField, checked((byte)(code.Length - (skipField + 1))));
        code.Encode(ContextOperand.Load(Register.RCX, MemcheckSlots.PrecheckSaveRcx));
        code.PatchByte(doneField, checked((byte)(code.Length - (doneField + 1))));
    }

    /// <summary>The 8-byte masks the pre-checks read, after everything else of the fragment.</summary>
    public void EmitConstants(CodeBuffer code)
    {
        if (_masks.Count == 0) return;
        while (code.Length % 8 != 0) code.Byte(0xCC);
        foreach ((int field, ulong mask) in _masks)
        {
            code.PatchRel32(field, code.CurrentAddress);
            code.Raw(BitConverter.GetBytes(mask));
        }
        _masks.Clear();
    }

    /// <summary>Dirty bits the instruction depends on: every register it reads or writes, the flags if it reads or sets them, the pending bit.</summary>
    private ulong MaskOf(in Instruction ins)
    {
        ulong mask = 1UL << ShadowRegisters.PendingBit;
        foreach (UsedRegister used in _info.GetInfo(ins).GetUsedRegisters())
            if (ShadowRegisters.DirtyBit(used.Register) is int bit and >= 0) mask |= 1UL << bit;
        if ((((ulong)ins.RflagsRead | (ulong)ins.RflagsModified) & ShadowRegisters.StatusFlags) != 0) mask |= 1UL << ShadowRegisters.FlagsBit;
        return mask;
    }
}
