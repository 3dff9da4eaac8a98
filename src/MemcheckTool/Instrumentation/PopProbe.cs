using Checker.Engine.Emission;
using Checker.MemcheckTool.Definedness;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// A pop in the access-checking (plain) mode: the slot it reads may hold an undefined value
/// a push of the propagating mode saved (a callee saving a caller's undefined register, its own
/// code having defined every register since). A flag-free probe of the slot's two shadow bytes;
/// when one is not zero, the forced bit is set and the thread leaves through a linked exit for the
/// propagating fragment at this pop, whose checked read and inline move give the register the
/// slot's shadow. Never C#: a register undefined for long makes this path hot (every callee's
/// epilogue; sqlite: 714,000 C# exits when it went through the access check's switch).
/// <code>
///   mov gs:[PrecheckSaveRcx], rcx ; lea rcx, [rsp] ; pext rcx, rcx, gs:[ShadowIndexMask]
///   movzx ecx, word fs:[rcx] ; jrcxz pass
///   (set the forced bit) ; mov rcx, gs:[PrecheckSaveRcx] ; (exit to this pop, propagating)
///   pass: mov rcx, gs:[PrecheckSaveRcx]
/// </code>
/// </summary>
public static class PopProbe
{
    /// <summary>pop of a 64-bit register other than rsp.</summary>
    public static bool Applies(in Instruction ins) =>
        ins.Mnemonic == Mnemonic.Pop && ins.Op0Kind == OpKind.Register && ins.Op0Register.IsGPR64() && ins.Op0Register != Register.RSP;

    public static void Emit(CodeBuffer code, in Instruction ins, Action<CodeBuffer, ulong, int> exitTo)
    {
        code.Encode(ContextOperand.Store(MemcheckSlots.PrecheckSaveRcx, Register.RCX));
        code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, new MemoryOperand(Register.RSP)));
        code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
        code.Encode(Instruction.Create(Code.Movzx_r32_rm16, Register.ECX, new MemoryOperand(Register.RCX, Register.None, 1, 0, 0, false, Register.FS)));
        // jrcxz over a jmp to the undefined path onto a jmp to pass (rel8 reaches only that far).
        code.Byte(0xE3);
        code.Byte(5);
        code.Byte(0xE9);
        int undefinedField = code.Length;
        code.Int32(0);
        code.Byte(0xE9);
        int passField = code.Length;
        code.Int32(0);
        code.PatchInt32(undefinedField, code.Length - (undefinedField + 4));
        var topByte = ContextOperand.Slot(MemcheckSlots.Dirty + 7);
        code.Encode(Instruction.Create(Code.Mov_r8_rm8, Register.CL, topByte));
        code.Encode(Instruction.Create(Code.Lea_r32_m, Register.ECX, new MemoryOperand(Register.RCX, 1 << (ShadowRegisters.ForcedBit - 56), 1)));
        code.Encode(Instruction.Create(Code.Mov_rm8_r8, topByte, Register.CL));
        code.Encode(ContextOperand.Load(Register.RCX, MemcheckSlots.PrecheckSaveRcx));
        exitTo(code, ins.IP, DefinednessMode.Propagating);
        code.PatchInt32(passField, code.Length - (passField + 4));
        code.Encode(ContextOperand.Load(Register.RCX, MemcheckSlots.PrecheckSaveRcx));
    }
}
