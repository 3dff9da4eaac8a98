using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>Instructions that address the context block: fs:[<see cref="ContextTls.Offset"/> + offset], absolute (no RIP, no 0x67 prefix).</summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public static class ContextOperand
{
    public static MemoryOperand Slot(int offset) =>
        new(Register.None, Register.None, 1, offset + ContextTls.Offset, 8, false, Register.FS);

    public static Instruction Store(int offset, Register source) =>
        Instruction.Create(Code.Mov_rm64_r64, Slot(offset), source);

    public static Instruction Load(Register destination, int offset) =>
        Instruction.Create(Code.Mov_r64_rm64, destination, Slot(offset));

    public static Instruction StoreExitId(int exitId) =>
        Instruction.Create(Code.Mov_rm32_imm32, Slot(ContextOffsets.ExitId), exitId);

    public static Instruction JumpThrough(int offset) => Instruction.Create(Code.Jmp_rm64, Slot(offset));
}
