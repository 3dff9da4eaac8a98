using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>
/// The indirect-branch lookup, inlined at every indirect jmp/call and ret: each site gets its own
/// final indirect jump, so the CPU predicts targets per site (one shared jump mispredicted on
/// almost every return). Entered with the target in rcx and the guest's rcx in IblSaveRcx; the
/// hash and compare are flag-free (rorx, movzx, lea, jrcxz). A miss jumps to the shared miss
/// routine, which leaves the cache for the dispatcher.
/// </summary>
public static class IndirectBranchEmitter
{
    private static MemoryOperand Slot(int offset) => ContextOperand.Slot(offset);

    public static void EmitLookup(CodeBuffer code, ulong tableAddress, ulong missRoutine, bool countLookups)
    {
        code.Encode(ContextOperand.Store(ContextOffsets.IblSaveRax, Register.RAX));
        code.Encode(ContextOperand.Store(ContextOffsets.IblSaveRdx, Register.RDX));
        if (countLookups)
        {
            code.Encode(ContextOperand.Load(Register.RAX, ContextOffsets.IblLookups));
            code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RAX, new MemoryOperand(Register.RAX, 1, 1)));
            code.Encode(ContextOperand.Store(ContextOffsets.IblLookups, Register.RAX));
        }
        // index = (target & 0xffff) + ((target >> 16) & 0xffff): see IndirectBranchTable.SlotOf.
        code.Encode(Instruction.Create(Code.VEX_Rorx_r64_rm64_imm8, Register.RAX, Register.RCX, 16));
        code.Encode(Instruction.Create(Code.Movzx_r32_rm16, Register.EAX, Register.AX));
        code.Encode(Instruction.Create(Code.Movzx_r32_rm16, Register.EDX, Register.CX));
        code.Encode(Instruction.Create(Code.Lea_r32_m, Register.EAX, new MemoryOperand(Register.RAX, Register.RDX)));
        code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RAX, new MemoryOperand(Register.None, Register.RAX, 8, (long)tableAddress, 4)));
        // The 8 bytes before a fragment's entry hold its negated application pc.
        code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RDX, new MemoryOperand(Register.RAX, -8, 1)));
        code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, new MemoryOperand(Register.RCX, Register.RDX)));
        // jrcxz over the 5-byte jump to the miss routine.
        code.Raw([0xE3, 0x05]);
        code.Raw([0xE9]);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, missRoutine));
        code.Encode(ContextOperand.Store(ContextOffsets.IblJump, Register.RAX));
        code.Encode(ContextOperand.Load(Register.RAX, ContextOffsets.IblSaveRax));
        code.Encode(ContextOperand.Load(Register.RDX, ContextOffsets.IblSaveRdx));
        code.Encode(ContextOperand.Load(Register.RCX, ContextOffsets.IblSaveRcx));
        code.Encode(ContextOperand.JumpThrough(ContextOffsets.IblJump));
    }
}
