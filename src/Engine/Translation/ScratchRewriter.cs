using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// Rewrites a guest instruction whose memory operand cannot be copied as is: an fs-relative operand
/// (the guest fs base lives in the context block, never in the real fs) or a RIP-relative operand
/// out of rel32 reach of the code cache (the vDSO, modules mapped far away). A scratch register the
/// instruction does not touch is spilled to the context block, loaded with the base to add, and the
/// operand is rewritten to use it. Flags are never touched (mov/lea only).
/// </summary>
internal static class ScratchRewriter
{
    private static readonly Register[] Candidates =
    [
        Register.RAX, Register.RCX, Register.RDX, Register.RBX, Register.RSI, Register.RDI, Register.R8, Register.R9,
        Register.R10, Register.R11, Register.R12, Register.R13, Register.R14, Register.R15,
    ];

    private static readonly InstructionInfoFactory InfoFactory = new();

    /// <summary>fs:[base + index*scale + disp] becomes [scratch + ...] with scratch = guest fs base.</summary>
    public static void EmitFsRelative(CodeBuffer code, Instruction instruction)
    {
        Register scratch = PickScratch(instruction);
        code.StoreSlot(ContextOffsets.ScratchSpill, scratch);
        code.LoadSlot(scratch, ContextOffsets.GuestFsBase);
        AddBaseRegisters(code, ref instruction, scratch);
        instruction.SegmentPrefix = Register.None;
        code.Encode(instruction);
        code.LoadSlot(scratch, ContextOffsets.ScratchSpill);
    }

    /// <summary>[rip + disp] out of reach becomes [scratch] with scratch = the absolute target.</summary>
    public static void EmitFarRipRelative(CodeBuffer code, Instruction instruction)
    {
        ulong target = instruction.IPRelativeMemoryAddress;
        if (instruction.Code == Code.Lea_r64_m)
        {
            code.Encode(Instruction.Create(Code.Mov_r64_imm64, instruction.Op0Register, target));
            return;
        }
        Register scratch = PickScratch(instruction);
        code.StoreSlot(ContextOffsets.ScratchSpill, scratch);
        code.Encode(Instruction.Create(Code.Mov_r64_imm64, scratch, target));
        instruction.MemoryBase = scratch;
        instruction.MemoryIndex = Register.None;
        instruction.MemoryDisplacement64 = 0;
        instruction.MemoryDisplSize = 0;
        code.Encode(instruction);
        code.LoadSlot(scratch, ContextOffsets.ScratchSpill);
    }

    /// <summary>
    /// Makes the memory operand of <paramref name="instruction"/> relative to <paramref name="baseRegister"/>,
    /// which already holds the value to add (emitting a lea when the operand has both base and index).
    /// </summary>
    public static void AddBaseRegisters(CodeBuffer code, ref Instruction instruction, Register baseRegister)
    {
        Register b = instruction.MemoryBase, i = instruction.MemoryIndex;
        if (b == Register.RIP || b == Register.EIP || i.IsVectorRegister() || b.IsGPR32() || i.IsGPR32())
            throw new EngineException($"unsupported segment-relative operand in '{instruction}' at 0x{instruction.IP:x}");
        if (b != Register.None && i != Register.None)
        {
            code.Encode(Instruction.Create(Code.Lea_r64_m, baseRegister, new MemoryOperand(b, baseRegister, 1, 0, 0, false, Register.None)));
            instruction.MemoryBase = baseRegister;
        }
        else if (b != Register.None)
        {
            instruction.MemoryIndex = baseRegister;
            instruction.MemoryIndexScale = 1;
        }
        else
        {
            instruction.MemoryBase = baseRegister;
        }
        long disp = (long)instruction.MemoryDisplacement64;
        instruction.MemoryDisplSize = disp == 0 ? 0 : disp is >= sbyte.MinValue and <= sbyte.MaxValue ? 1 : 8;
    }

    public static Register PickScratch(in Instruction instruction)
    {
        Span<bool> used = stackalloc bool[Candidates.Length];
        foreach (UsedRegister r in InfoFactory.GetInfo(instruction).GetUsedRegisters())
        {
            int i = Array.IndexOf(Candidates, r.Register.Full());
            if (i >= 0) used[i] = true;
        }
        for (int i = 0; i < Candidates.Length; i++)
            if (!used[i]) return Candidates[i];
        throw new EngineException($"no scratch register for '{instruction}' at 0x{instruction.IP:x}");
    }
}
