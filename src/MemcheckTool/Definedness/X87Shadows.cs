using Checker.Engine.State;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The shadows of the x87 registers, kept per physical register (R0-R7) in the context block
/// (<see cref="MemcheckSlots.X87Shadow"/>, one byte each: 0 defined, 0xff undefined; a value on the
/// FPU is converted, so it is defined or not as a whole, as Valgrind's pessimistic FP rules make it),
/// and of the status word's condition codes C0-C3 (<see cref="MemcheckSlots.X87ConditionShadow"/>, at
/// their bits of the status word, as fnstsw stores them). st(i) is physical register (TOP + i) mod 8,
/// TOP read from the guest's status word, which the exit saved with the rest of the x87 state: so
/// pushes, pops, fincstp/fdecstp move no shadow, and a register popped (or freed) is empty and
/// defined. One dirty bit (<see cref="ShadowRegisters.X87Bit"/>) stands for all of it.
/// </summary>
internal static unsafe class X87Shadows
{
    /// <summary>Iced's condition-code bits (C0-C3), which every x87 instruction modifies.</summary>
    private const RflagsBits ConditionCodes = RflagsBits.C0 | RflagsBits.C1 | RflagsBits.C2 | RflagsBits.C3;

    /// <summary>The status word's bits for C0, C1, C2, C3.</summary>
    public const ushort C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;

    // XSAVE standard format: the status word at byte 2 of the legacy area; XSTATE_BV bit 0 clear
    // means the x87 state is in its initial state (the area was not written: TOP is 0).
    private const int StatusWord = 2, XstateBv = 512;

    /// <summary>Whether the instruction is an x87 one (it touches the condition codes) or emms, which empties the stack.</summary>
    public static bool Touches(in Instruction ins)
    {
        // By code (Iced's condition-code bits and mnemonic follow from the code alone; only shifts'
        // status flags depend on their count): translation asked Iced's flags tables here several
        // times per instruction.
        int code = (int)ins.Code;
        if ((uint)code >= (uint)TouchesByCode.Length) return TouchesUncached(ins);
        ref byte known = ref TouchesByCode[code];
        if (known == 0) known = TouchesUncached(ins) ? (byte)2 : (byte)1;
        return known == 2;
    }

    private static bool TouchesUncached(in Instruction ins) =>
        ((ins.RflagsRead | ins.RflagsModified) & ConditionCodes) != 0 || ins.Mnemonic is Mnemonic.Emms or Mnemonic.Femms;

    // 0: not asked yet, 1: no, 2: yes (a race writes the same value).
    private static readonly byte[] TouchesByCode = new byte[8192];

    /// <summary>The status word's C0-C3 bits for Iced's condition-code bits.</summary>
    public static ushort StatusBits(RflagsBits flags) => (ushort)(((flags & RflagsBits.C0) != 0 ? C0 : 0) | ((flags & RflagsBits.C1) != 0 ? C1 : 0)
        | ((flags & RflagsBits.C2) != 0 ? C2 : 0) | ((flags & RflagsBits.C3) != 0 ? C3 : 0));

    /// <summary>The guest's TOP (the physical register that is st(0)), as the instruction about to run sees it.</summary>
    public static int Top(ContextBlock* c)
    {
        byte* x = c->XsaveArea;
        if ((*(ulong*)(x + XstateBv) & 1) == 0) return 0;
        return (*(ushort*)(x + StatusWord) >> 11) & 7;
    }

    private static byte* Physical(ContextBlock* c) => (byte*)c + MemcheckSlots.X87Shadow;

    public static ref ushort Conditions(ContextBlock* c) => ref MemcheckSlots.At<ushort>(c, MemcheckSlots.X87ConditionShadow);

    /// <summary>Whether st(<paramref name="index"/>) is undefined (<paramref name="top"/>: TOP before the instruction).</summary>
    public static bool IsUndefined(ContextBlock* c, int top, int index) => Physical(c)[(top + index) & 7] != 0;

    /// <summary>Sets st(<paramref name="index"/>) relative to <paramref name="top"/>.</summary>
    public static void Set(ContextBlock* c, int top, int index, bool undefined) => Physical(c)[(top + index) & 7] = undefined ? (byte)0xff : (byte)0;

    /// <summary>Everything defined: finit, emms, fnsave (which reinitializes the FPU).</summary>
    public static void DefineAll(ContextBlock* c)
    {
        new Span<byte>(Physical(c), 8).Clear();
        Conditions(c) = 0;
    }

    /// <summary>The dirty bit from the slots, after a rule changed them.</summary>
    public static void UpdateDirty(ContextBlock* c)
    {
        bool dirty = *(ulong*)Physical(c) != 0 || Conditions(c) != 0;
        if (dirty) ShadowRegisters.Dirty(c) |= 1UL << ShadowRegisters.X87Bit;
        else ShadowRegisters.Dirty(c) &= ~(1UL << ShadowRegisters.X87Bit);
    }
}
