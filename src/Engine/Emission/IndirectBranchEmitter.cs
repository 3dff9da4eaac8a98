using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>
/// The indirect-branch lookup, inlined at every indirect jmp/call and ret: each site gets its own
/// final indirect jump, so the CPU predicts targets per site (one shared jump mispredicted on
/// almost every return). Entered with the target in rcx and the guest's rcx in IblSaveRcx.
/// Two variants:
/// <list type="bullet">
/// <item>at ret and indirect call the flags are dead (no calling convention passes flags across
/// them), so the key compare is a plain <c>add</c>/<c>jnz</c> and only rax is borrowed;</item>
/// <item>at an indirect jmp (switch tables, computed goto) flags may be live: the compare is
/// flag-free (lea + jrcxz) and borrows rdx as well.</item>
/// </list>
/// A miss jumps to a shared routine that leaves the cache for the dispatcher.
/// </summary>
public static class IndirectBranchEmitter
{
    // The sequence is position-independent but for the rel32 of the miss jump, so each variant is
    // encoded once and copied: encoding it per site was a large part of translation time.
    private static readonly Dictionary<(ulong, ulong, bool, bool, int), (byte[] Bytes, int MissField, ulong MissTarget)> Templates = new();

    /// <summary>
    /// The lookup in <paramref name="tableAddress"/>, the table of the site's translation
    /// <paramref name="mode"/>; a miss records the mode (gs:[IblMissMode]) so the dispatcher fills
    /// that mode's table, where the site looks next time.
    /// </summary>
    public static void EmitLookup(CodeBuffer code, ulong tableAddress, RuntimeRoutines routines, bool flagsLive, bool countLookups, int mode = 0)
    {
        var key = (tableAddress, routines.IndirectBranchMiss, flagsLive, countLookups, mode);
        if (!Templates.TryGetValue(key, out var template))
        {
            var scratch = new CodeBuffer(0);
            int field = Encode(scratch, tableAddress, routines, flagsLive, countLookups, mode);
            Templates[key] = template = (scratch.Bytes.ToArray(), field, flagsLive ? routines.IndirectBranchMissFlagFree : routines.IndirectBranchMiss);
        }
        int start = code.Length;
        code.Raw(template.Bytes);
        code.PatchRel32(start + template.MissField, template.MissTarget);
    }

    /// <summary>Encodes the lookup; returns the offset of the miss jump's rel32 field.</summary>
    private static int Encode(CodeBuffer code, ulong tableAddress, RuntimeRoutines routines, bool flagsLive, bool countLookups, int mode)
    {
        int missField;
        code.Encode(ContextOperand.Store(ContextOffsets.IblSaveRax, Register.RAX));
        if (flagsLive) code.Encode(ContextOperand.Store(ContextOffsets.IblSaveRdx, Register.RDX));
        if (countLookups)
        {
            code.Encode(ContextOperand.Load(Register.RAX, ContextOffsets.IblLookups));
            code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RAX, new MemoryOperand(Register.RAX, 1, 1)));
            code.Encode(ContextOperand.Store(ContextOffsets.IblLookups, Register.RAX));
        }
        // slot = (target + (target >> 16)) & 0xffff: see IndirectBranchTable.SlotOf.
        code.Encode(Instruction.Create(Code.VEX_Rorx_r64_rm64_imm8, Register.RAX, Register.RCX, 16));
        code.Encode(Instruction.Create(Code.Lea_r32_m, Register.EAX, new MemoryOperand(Register.RAX, Register.RCX)));
        code.Encode(Instruction.Create(Code.Movzx_r32_rm16, Register.EAX, Register.AX));
        code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RAX, new MemoryOperand(Register.None, Register.RAX, 8, (long)tableAddress, 4)));
        // The 8 bytes before a fragment's entry hold its negated application pc.
        var key = new MemoryOperand(Register.RAX, -8, 1);
        if (flagsLive)
        {
            code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RDX, key));
            code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, new MemoryOperand(Register.RCX, Register.RDX)));
            code.Raw([0xE3, 0x00]);   // jrcxz over the miss path
            int over = code.Length - 1;
            code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(ContextOffsets.IblMissMode), mode));
            missField = JumpRel32(code, routines.IndirectBranchMissFlagFree);
            code.PatchByte(over, checked((byte)(code.Length - (over + 1))));
        }
        else
        {
            code.Encode(Instruction.Create(Code.Add_r64_rm64, Register.RCX, key));
            code.Raw([0x74, 0x00]);   // jz over the miss path (the sub undoes the add)
            int over = code.Length - 1;
            code.Encode(Instruction.Create(Code.Sub_r64_rm64, Register.RCX, key));
            code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(ContextOffsets.IblMissMode), mode));
            missField = JumpRel32(code, routines.IndirectBranchMiss);
            code.PatchByte(over, checked((byte)(code.Length - (over + 1))));
        }
        code.Encode(ContextOperand.Store(ContextOffsets.IblJump, Register.RAX));
        code.Encode(ContextOperand.Load(Register.RAX, ContextOffsets.IblSaveRax));
        if (flagsLive) code.Encode(ContextOperand.Load(Register.RDX, ContextOffsets.IblSaveRdx));
        code.Encode(ContextOperand.Load(Register.RCX, ContextOffsets.IblSaveRcx));
        code.Encode(ContextOperand.JumpThrough(ContextOffsets.IblJump));
        return missField;
    }

    private static int JumpRel32(CodeBuffer code, ulong target)
    {
        code.Raw([0xE9]);
        int field = code.Length;
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, target));
        return field;
    }
}
