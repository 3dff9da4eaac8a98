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
/// The switch (the forced bit, the exit) is out of the straight line (<see cref="PropagatingSwitches"/>),
/// so the probe's jumps fall through. With the flags and a register dead (the first popped register
/// is, before the pops):
/// <code>
///   lea r, [rsp] ; shr r, 2 ; (cmp qword fs:[r+k], 0 ; jnz switch)... ; cmp word fs:[r+k], 0 ; jnz switch
/// </code>
/// otherwise flag-free, rcx borrowed (kept in a dead register when there is one, else in gs):
/// <code>
///   mov r, rcx ; (lea rcx, [rsp+4k] ; pext rcx, rcx, gs:[ShadowIndexMask] ; mov rcx, fs:[rcx] ; jrcxz next ; jmp switch ; next:)...
///   mov rcx, r
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

    /// <summary>Probes the slots of <paramref name="count"/> pops starting with <paramref name="first"/>; the switch goes to <paramref name="switches"/>.</summary>
    /// <param name="free">A register dead before the first pop (the popped one is).</param>
    /// <param name="held">The register held in ctx[HeldScratch] there (<see cref="Register.None"/> if none): reloaded before the exit.</param>
    public static void Emit(CodeBuffer code, in Instruction first, int count, PropagatingSwitches switches, Register free = Register.None,
        bool flagsDead = false, Register held = Register.None)
    {
        if (count is < 1 or > MaxRun) throw new ArgumentOutOfRangeException(nameof(count));
        if (!free.IsGPR64() || free == Register.RSP) free = Register.None;
        bool deadFlags = flagsDead && free != Register.None;
        int keeper = free == Register.None ? 0 : free - Register.RAX + 1;
        Probe probe = deadFlags
            ? DeadFlagProbes[count, free - Register.RAX] ?? RecordDeadFlagProbe(free, count)
            : LiveFlagProbes[count, keeper] ?? RecordLiveFlagProbe(free, count, keeper);
        int start = code.Length;
        probe.Code.CopyTo(code, []);
        foreach (int field in probe.SwitchFields) switches.JumpField(start + field);
        switches.Add(first.IP, flagsLive: !deadFlags, free, held);
    }

    /// <summary>A probe's bytes, the same at every run of that length and register, and where its jumps to the switch keep their rel32s.</summary>
    private sealed record Probe(CodeTemplate Code, int[] SwitchFields);

    // Recorded apart from Emit: lambdas there captured its parameters, a closure allocated per pop run.
    private static Probe RecordDeadFlagProbe(Register free, int count) =>
        DeadFlagProbes[count, free - Register.RAX] = Record(c => EmitDeadFlagProbe(c, free, count));

    private static Probe RecordLiveFlagProbe(Register free, int count, int keeper) =>
        LiveFlagProbes[count, keeper] = Record(c => EmitLiveFlagProbe(c, free, count));

    private static Probe Record(Action<CodeBuffer> emit)
    {
        // The recording starts at offset 0 of its buffer: the fields' offsets are the template's.
        var offsets = new List<int>();
        EmitFieldsInto = offsets;
        try { return new Probe(CodeTemplate.Record(0, (c, _) => emit(c)), [.. offsets]); }
        finally { EmitFieldsInto = null; }
    }

    // Where the probe being recorded notes its switch jumps' fields (null: not recording them).
    [ThreadStatic] private static List<int>? EmitFieldsInto;

    // jnz rel32 / jmp rel32 to the switch, its field noted while recording.
    private static void JumpToSwitch(CodeBuffer code, byte[] opcode)
    {
        code.Raw(opcode);
        EmitFieldsInto?.Add(code.Length);
        code.Int32(0);
    }

    private static readonly byte[] Jnz = [0x0F, 0x85], Jmp = [0xE9];

    // The probes by run length and free register (dead flags) or keeper (live flags).
    private static readonly Probe?[,] DeadFlagProbes = new Probe?[MaxRun + 1, 16];
    private static readonly Probe?[,] LiveFlagProbes = new Probe?[MaxRun + 1, 17];

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
        foreach ((int offset, int size) in Chunks(count))
        {
            var slot = new MemoryOperand(free, Register.None, 1, offset, offset == 0 ? 0 : 1, false, Register.GS);
            code.Encode(Instruction.Create(size switch { 8 => Code.Cmp_rm64_imm8, 4 => Code.Cmp_rm32_imm8, _ => Code.Cmp_rm16_imm8 }, slot, 0));
            JumpToSwitch(code, Jnz);
        }
    }

    private static void EmitLiveFlagProbe(CodeBuffer code, Register keeper, int count)
    {
        if (keeper == Register.None) code.StoreSlot(MemcheckSlots.PrecheckSaveRcx, Register.RCX);
        else if (keeper != Register.RCX) code.Encode(Instruction.Create(Code.Mov_r64_rm64, keeper, Register.RCX));
        foreach ((int offset, int size) in Chunks(count))
        {
            code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, new MemoryOperand(Register.RSP, 4 * offset, 4 * offset == 0 ? 0 : 1)));
            code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
            var shadow = new MemoryOperand(Register.RCX, Register.None, 1, 0, 0, false, Register.GS);
            code.Encode(size switch
            {
                8 => Instruction.Create(Code.Mov_r64_rm64, Register.RCX, shadow),
                4 => Instruction.Create(Code.Mov_r32_rm32, Register.ECX, shadow),
                _ => Instruction.Create(Code.Movzx_r32_rm16, Register.ECX, shadow),
            });
            code.Raw([0xE3, 0x05]);   // jrcxz over the jmp to the switch
            JumpToSwitch(code, Jmp);
        }
        PropagatingSwitches.RestoreRcx(code, keeper);
    }
}
