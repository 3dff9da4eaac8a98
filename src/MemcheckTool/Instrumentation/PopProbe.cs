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
/// With the flags and a register dead (the popped register is, before the pop):
/// <code>
///   lea r, [rsp] ; shr r, 2 ; cmp word fs:[r], 0 ; jz pass ; or byte gs:[Dirty+7], 0x40 ; (exit to this pop, propagating) ; pass:
/// </code>
/// otherwise flag-free, rcx borrowed:
/// <code>
///   mov gs:[PrecheckSaveRcx], rcx ; lea rcx, [rsp] ; pext rcx, rcx, gs:[ShadowIndexMask]
///   movzx ecx, word fs:[rcx] ; jrcxz pass
///   (set the forced bit) ; mov rcx, gs:[PrecheckSaveRcx] ; (exit to this pop, propagating)
///   pass: mov rcx, gs:[PrecheckSaveRcx]
/// </code>
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public static class PopProbe
{
    /// <summary>pop of a 64-bit register other than rsp.</summary>
    public static bool Applies(in Instruction ins) =>
        ins.Mnemonic == Mnemonic.Pop && ins.Op0Kind == OpKind.Register && ins.Op0Register.IsGPR64() && ins.Op0Register != Register.RSP;

    /// <param name="free">A register dead before the pop (the popped one is), used with <paramref name="flagsDead"/>.</param>
    public static void Emit(CodeBuffer code, in Instruction ins, Action<CodeBuffer, ulong, int> exitTo, Register free = Register.None, bool flagsDead = false)
    {
        int passField;
        if (flagsDead && free.IsGPR64())
        {
            // lea r, [rsp] ; shr r, 2 ; cmp word fs:[r], 0 ; jz pass ; or byte gs:[Dirty+7], 0x40 ; (exit) ; pass:
            (DeadFlagProbes[free - Register.RAX] ??= CodeTemplate.Record(0, (c, _) => EmitDeadFlagProbe(c, free))).CopyTo(code, []);
            passField = code.Length - 1 - ForceLength;
            exitTo(code, ins.IP, DefinednessMode.Propagating);
            code.PatchByte(passField, checked((byte)(code.Length - (passField + 1))));
            return;
        }
        (_liveFlagProbe ??= CodeTemplate.Record(0, (c, _) => EmitLiveFlagProbe(c))).CopyTo(code, []);
        passField = code.Length - LiveFlagTail;
        exitTo(code, ins.IP, DefinednessMode.Propagating);
        // Measured, not assumed: an exit's jmp may be padded (its rel32 is patched in place).
        code.PatchByte(passField, checked((byte)(code.Length - (passField + 1))));
        code.LoadSlot(Register.RCX, MemcheckSlots.PrecheckSaveRcx);
    }

    // The probes' bytes up to the exit, the same at every pop: encoded once (by free register; with rcx).
    private static readonly CodeTemplate?[] DeadFlagProbes = new CodeTemplate?[16];
    private static CodeTemplate? _liveFlagProbe;
    private static readonly MemoryOperand TopByte = ContextOperand.Slot(MemcheckSlots.Dirty + 7);
    // The `or` after the jz's displacement (dead flags); the path after the jrcxz's (live flags).
    private static readonly int ForceLength = EncodedLength(c => c.Encode(Instruction.Create(Code.Or_rm8_imm8, TopByte, 1 << (ShadowRegisters.ForcedBit - 56))));
    private static readonly int LiveFlagTail = EncodedLength(EmitLiveFlagForce) + 1;

    private static int EncodedLength(Action<CodeBuffer> emit) => CodeTemplate.Encode(emit).Length;

    private static void EmitDeadFlagProbe(CodeBuffer code, Register free)
    {
        code.Encode(Instruction.Create(Code.Lea_r64_m, free, new MemoryOperand(Register.RSP)));
        code.Encode(Instruction.Create(Code.Shr_rm64_imm8, free, 2));
        code.Encode(Instruction.Create(Code.Cmp_rm16_imm8, new MemoryOperand(free, Register.None, 1, 0, 0, false, Register.FS), 0));
        code.Byte(0x74);
        code.Byte(0);
        code.Encode(Instruction.Create(Code.Or_rm8_imm8, TopByte, 1 << (ShadowRegisters.ForcedBit - 56)));
    }

    private static void EmitLiveFlagProbe(CodeBuffer code)
    {
        code.StoreSlot(MemcheckSlots.PrecheckSaveRcx, Register.RCX);
        code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, new MemoryOperand(Register.RSP)));
        code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
        code.Encode(Instruction.Create(Code.Movzx_r32_rm16, Register.ECX, new MemoryOperand(Register.RCX, Register.None, 1, 0, 0, false, Register.FS)));
        // jrcxz over the undefined path (one taken branch when the slot is defined).
        code.Byte(0xE3);
        code.Byte(0);
        EmitLiveFlagForce(code);
    }

    private static void EmitLiveFlagForce(CodeBuffer code)
    {
        code.Encode(Instruction.Create(Code.Mov_r8_rm8, Register.CL, TopByte));
        code.Encode(Instruction.Create(Code.Lea_r32_m, Register.ECX, new MemoryOperand(Register.RCX, 1 << (ShadowRegisters.ForcedBit - 56), 1)));
        code.Encode(Instruction.Create(Code.Mov_rm8_r8, TopByte, Register.CL));
        code.LoadSlot(Register.RCX, MemcheckSlots.PrecheckSaveRcx);
    }
}
