using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.MemcheckTool.Definedness;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// Pops in the access-checking (plain) mode: the slots they read may hold undefined values
/// a push of the propagating mode saved (a callee saving a caller's undefined register, its own
/// code having defined every register since). A run of consecutive pops (an epilogue's) is probed
/// once, before its first pop: one flag-free test of the run's shadow bytes (2 per slot, in loads
/// of 8, 4 and 2 bytes); when one is not zero, the forced bit is set and the thread leaves through
/// a linked exit for the propagating fragment at the first pop, whose checked reads and inline
/// moves give each register its slot's shadow. Never C#: a register undefined for long makes this
/// path hot (every callee's epilogue; sqlite: 714,000 C# exits when it went through the access
/// check's switch). One probe per pop cost python's interpreter loop a third of its hottest
/// fragment's samples (six pops, each saving and reloading rcx through gs).
/// With the flags and a register dead (the first popped register is, before the pops):
/// <code>
///   lea r, [rsp] ; shr r, 2 ; (cmp qword fs:[r+k], 0 ; jnz force)... ; cmp word fs:[r+k], 0 ; jz pass
///   force: or byte gs:[Dirty+7], 0x40 ; (exit to the first pop, propagating) ; pass:
/// </code>
/// otherwise flag-free, rcx borrowed (kept in a dead register when there is one, else in gs):
/// <code>
///   mov r, rcx ; (lea rcx, [rsp+4k] ; pext rcx, rcx, gs:[ShadowIndexMask] ; mov rcx, fs:[rcx] ; jrcxz next ; jmp force ; next:)...
///   lea rcx, [rsp+4k] ; pext ... ; movzx ecx, word fs:[rcx] ; jrcxz pass
///   force: (set the forced bit) ; mov rcx, r ; (exit to the first pop, propagating)
///   pass: mov rcx, r
/// </code>
/// Inside a held-scratch run (pops do not end one: they set rsp only by their implicit step) the
/// undefined path reloads the held register's guest value before its exit: that exit is linked
/// straight to the propagating fragment, past the dispatcher that gives a tool exit's held register
/// back (skipping the probe there instead brought an undefined callee-saved register back defined:
/// uninit_pop_held.c). The defined path keeps the hold: no cost where nothing is undefined.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public static class PopProbe
{
    /// <summary>The most pops one probe covers (16 shadow bytes).</summary>
    public const int MaxRun = 8;

    /// <summary>pop of a 64-bit register other than rsp.</summary>
    public static bool Applies(in Instruction ins) =>
        ins.Mnemonic == Mnemonic.Pop && ins.Op0Kind == OpKind.Register && ins.Op0Register.IsGPR64() && ins.Op0Register != Register.RSP;

    /// <summary>How many pops <see cref="Applies"/> to, one after another from <paramref name="index"/> (at most <see cref="MaxRun"/>).</summary>
    public static int RunLength(IReadOnlyList<Instruction> instructions, int index)
    {
        int count = 0;
        while (count < MaxRun && index + count < instructions.Count && Applies(instructions[index + count])) count++;
        return count;
    }

    /// <summary>Probes the slots of <paramref name="count"/> pops starting with <paramref name="first"/>.</summary>
    /// <param name="free">A register dead before the first pop (the popped one is).</param>
    /// <param name="held">The register held in ctx[HeldScratch] there (<see cref="Register.None"/> if none): reloaded before the exit.</param>
    public static void Emit(CodeBuffer code, in Instruction first, int count, Action<CodeBuffer, ulong, int> exitTo, Register free = Register.None,
        bool flagsDead = false, Register held = Register.None)
    {
        if (count is < 1 or > MaxRun) throw new ArgumentOutOfRangeException(nameof(count));
        if (!free.IsGPR64() || free == Register.RSP) free = Register.None;
        int passField;
        if (flagsDead && free != Register.None)
        {
            (DeadFlagProbes[count, free - Register.RAX] ?? RecordDeadFlagProbe(free, count)).CopyTo(code, []);
            passField = code.Length - 1 - ForceLength;
            ReloadHeld(code, held);
            exitTo(code, first.IP, DefinednessMode.Propagating);
            code.PatchByte(passField, checked((byte)(code.Length - (passField + 1))));
            return;
        }
        int keeper = free == Register.None ? 0 : free - Register.RAX + 1;
        (LiveFlagProbes[count, keeper] ?? RecordLiveFlagProbe(free, count, keeper)).CopyTo(code, []);
        passField = code.Length - LiveFlagTail(free);
        ReloadHeld(code, held);
        exitTo(code, first.IP, DefinednessMode.Propagating);
        // Measured, not assumed: an exit's jmp may be padded (its rel32 is patched in place).
        code.PatchByte(passField, checked((byte)(code.Length - (passField + 1))));
        Restore(code, free);
    }

    // On the undefined path only, after rcx is restored (rcx may be the held register).
    private static void ReloadHeld(CodeBuffer code, Register held)
    {
        if (held != Register.None) code.LoadSlot(held, ContextOffsets.HeldScratch);
    }

    // Recorded apart from Emit: lambdas there captured its parameters, a closure allocated per pop run.
    private static CodeTemplate RecordDeadFlagProbe(Register free, int count) =>
        DeadFlagProbes[count, free - Register.RAX] = CodeTemplate.Record(0, (c, _) => EmitDeadFlagProbe(c, free, count));

    private static CodeTemplate RecordLiveFlagProbe(Register free, int count, int keeper) =>
        LiveFlagProbes[count, keeper] = CodeTemplate.Record(0, (c, _) => EmitLiveFlagProbe(c, free, count));

    // The probes' bytes up to the exit, the same at every run of that length: encoded once (by free register).
    private static readonly CodeTemplate?[,] DeadFlagProbes = new CodeTemplate?[MaxRun + 1, 16];
    private static readonly CodeTemplate?[,] LiveFlagProbes = new CodeTemplate?[MaxRun + 1, 17];
    private static readonly MemoryOperand TopByte = ContextOperand.Slot(MemcheckSlots.Dirty + 7);
    // The `or` after the jz's displacement (dead flags); the path after the jrcxz's (live flags).
    private static readonly int ForceLength = EncodedLength(c => c.Encode(Instruction.Create(Code.Or_rm8_imm8, TopByte, 1 << (ShadowRegisters.ForcedBit - 56))));
    private static readonly int[] LiveFlagTails = new int[17];

    private static int LiveFlagTail(Register keeper)
    {
        int slot = keeper == Register.None ? 0 : keeper - Register.RAX + 1;
        if (LiveFlagTails[slot] == 0) LiveFlagTails[slot] = LiveFlagTailLength(keeper);
        return LiveFlagTails[slot];
    }

    private static int LiveFlagTailLength(Register keeper) => EncodedLength(c => EmitLiveFlagForce(c, keeper)) + 1;

    private static int EncodedLength(Action<CodeBuffer> emit) => CodeTemplate.Encode(emit).Length;

    /// <summary>The run's shadow (2 bytes a slot) as loads of 8, 4 and 2 bytes: (offset, size) each.</summary>
    internal static List<(int Offset, int Size)> Chunks(int count)
    {
        var chunks = new List<(int, int)>();
        int offset = 0, left = 2 * count;
        foreach (int size in (ReadOnlySpan<int>)[8, 4, 2])
            while (left >= size)
            {
                chunks.Add((offset, size));
                offset += size;
                left -= size;
            }
        return chunks;
    }

    private static void EmitDeadFlagProbe(CodeBuffer code, Register free, int count)
    {
        code.Encode(Instruction.Create(Code.Lea_r64_m, free, new MemoryOperand(Register.RSP)));
        code.Encode(Instruction.Create(Code.Shr_rm64_imm8, free, 2));
        List<(int Offset, int Size)> chunks = Chunks(count);
        var toForce = new List<int>();
        for (int i = 0; i < chunks.Count; i++)
        {
            (int offset, int size) = chunks[i];
            var slot = new MemoryOperand(free, Register.None, 1, offset, offset == 0 ? 0 : 1, false, Register.GS);
            code.Encode(Instruction.Create(size switch { 8 => Code.Cmp_rm64_imm8, 4 => Code.Cmp_rm32_imm8, _ => Code.Cmp_rm16_imm8 }, slot, 0));
            // jnz force (the last: jz pass, patched by the caller).
            code.Byte(i == chunks.Count - 1 ? (byte)0x74 : (byte)0x75);
            code.Byte(0);
            if (i < chunks.Count - 1) toForce.Add(code.Length - 1);
        }
        foreach (int field in toForce) code.PatchByte(field, checked((byte)(code.Length - (field + 1))));
        code.Encode(Instruction.Create(Code.Or_rm8_imm8, TopByte, 1 << (ShadowRegisters.ForcedBit - 56)));
    }

    private static void EmitLiveFlagProbe(CodeBuffer code, Register keeper, int count)
    {
        if (keeper == Register.None) code.StoreSlot(MemcheckSlots.PrecheckSaveRcx, Register.RCX);
        else if (keeper != Register.RCX) code.Encode(Instruction.Create(Code.Mov_r64_rm64, keeper, Register.RCX));
        List<(int Offset, int Size)> chunks = Chunks(count);
        var toForce = new List<int>();
        for (int i = 0; i < chunks.Count; i++)
        {
            (int offset, int size) = chunks[i];
            code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, new MemoryOperand(Register.RSP, 4 * offset, 4 * offset == 0 ? 0 : 1)));
            code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
            var shadow = new MemoryOperand(Register.RCX, Register.None, 1, 0, 0, false, Register.GS);
            code.Encode(size switch
            {
                8 => Instruction.Create(Code.Mov_r64_rm64, Register.RCX, shadow),
                4 => Instruction.Create(Code.Mov_r32_rm32, Register.ECX, shadow),
                _ => Instruction.Create(Code.Movzx_r32_rm16, Register.ECX, shadow),
            });
            // jrcxz over the undefined path (the last: to pass, patched by the caller); before it: jrcxz next ; jmp force.
            code.Byte(0xE3);
            if (i == chunks.Count - 1)
            {
                code.Byte(0);
                break;
            }
            code.Byte(2);
            code.Byte(0xEB);
            code.Byte(0);
            toForce.Add(code.Length - 1);
        }
        foreach (int field in toForce) code.PatchByte(field, checked((byte)(code.Length - (field + 1))));
        EmitLiveFlagForce(code, keeper);
    }

    private static void EmitLiveFlagForce(CodeBuffer code, Register keeper)
    {
        code.Encode(Instruction.Create(Code.Mov_r8_rm8, Register.CL, TopByte));
        code.Encode(Instruction.Create(Code.Lea_r32_m, Register.ECX, new MemoryOperand(Register.RCX, 1 << (ShadowRegisters.ForcedBit - 56), 1)));
        code.Encode(Instruction.Create(Code.Mov_rm8_r8, TopByte, Register.CL));
        Restore(code, keeper);
    }

    private static void Restore(CodeBuffer code, Register keeper)
    {
        if (keeper == Register.None) code.LoadSlot(Register.RCX, MemcheckSlots.PrecheckSaveRcx);
        else if (keeper != Register.RCX) code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RCX, keeper));
    }
}
