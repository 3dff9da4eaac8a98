using Checker.Engine.State;
using Checker.MemcheckTool.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The shadows of a thread's registers in its context block (<see cref="MemcheckSlots"/>): a set
/// bit is an undefined bit, as in Valgrind's V bits. General registers 8 bytes, vector registers
/// 64 (xmm and ymm are the low parts of zmm), k registers 8, the status flags one bit each at their
/// Iced RflagsBits position. <see cref="MemcheckSlots.Dirty"/> has one bit per register whose shadow is not
/// all zero; while it is zero the thread runs mode-0 code, which never looks at these slots.
/// The x87 registers have their shadows in <see cref="X87Shadows"/> (by physical register, one dirty
/// bit for all); registers with no shadow (segment, MMX, control) count as defined.
/// </summary>
internal static unsafe class ShadowRegisters
{
    /// <summary>
    /// Dirty bits: general registers 0-15, vector registers 16-29 and, for xmm14-31, 58, 56 and 32-47,
    /// k registers 48-55, the status flags 31, the pending bit 30. The flags sit in the low dword with
    /// the general registers, so a plain block's guard (<see cref="PropagationEmitter.EmitGuard"/>) over the
    /// registers and flags it uses is one <c>test</c> of that dword (with the flags at 56 most guards
    /// were two: sqlite, 290 of the guards' ~420 samples); the pending bit too, so a plain copy's
    /// pre-check of its register and the pending bit is one <c>test</c> (it was two, 30 bytes).
    /// </summary>
    public const int VectorBit = 16, MaskBit = 48, FlagsBit = 31;
    /// <summary>The dirty bits of xmm14/ymm14/zmm14 and xmm15/ymm15/zmm15, whose places in the vector run the pending bit and the flags took.</summary>
    public const int Vector14Bit = 58, Vector15Bit = 56;
    /// <summary>The general registers' and the flags' dirty bits: all clear in <see cref="DefinednessMode.Plain"/>.</summary>
    public const uint GeneralBits = 0xFFFFu | 1u << FlagsBit;
    /// <summary>Every register's dirty bit (general, vector, k), not the flags', x87's, forced or pending.</summary>
    public const ulong RegisterBits = (((1UL << 57) - 1) | (1UL << Vector14Bit)) & ~(1UL << FlagsBit) & ~(1UL << PendingBit);
    /// <summary>Any x87 register or condition code undefined (<see cref="X87Shadows"/>); st0-st7 all map to it.</summary>
    public const int X87Bit = 57;
    /// <summary>Set by an access check that met undefined bytes for a load the propagating mode or a plain copy's pre-check completes: the next instruction read undefined memory.</summary>
    public const int PendingBit = 30;
    /// <summary>Set when mode 0 sends the thread to the propagating mode (a load of undefined memory is next); the block it enters clears it.</summary>
    public const int ForcedBit = 62;
    /// <summary>The status flags memcheck tracks (OF, SF, ZF, AF, CF, PF), as Iced's RflagsBits numbers them.</summary>
    public const ulong StatusFlags = 0x3f;

    public static ref ulong Dirty(ContextBlock* c) => ref MemcheckSlots.At<ulong>(c, MemcheckSlots.Dirty);
    public static ref ulong Flags(ContextBlock* c) => ref MemcheckSlots.At<ulong>(c, MemcheckSlots.FlagsShadow);

    /// <summary>Where the shadow of <paramref name="register"/>'s full register starts, its dirty bit and its full size; null: no shadow.</summary>
    private static (int Offset, int Bit, int FullSize)? Slot(Register register)
    {
        if (register.IsGPR())
        {
            int index = register.Full() - Register.RAX;
            return (MemcheckSlots.GprShadow + 8 * index, index, 8);
        }
        if (register.IsXMM() || register.IsYMM() || register.IsZMM())
        {
            int number = register.Number();
            return (MemcheckSlots.VectorShadow + 64 * number, number switch { 14 => Vector14Bit, 15 => Vector15Bit, _ => VectorBit + number }, 64);
        }
        if (register.IsK())
        {
            int number = register - Register.K0;
            return (MemcheckSlots.MaskShadow + 8 * number, MaskBit + number, 8);
        }
        return null;
    }

    /// <summary>The byte of the full register where <paramref name="register"/> starts (ah..bh: 1).</summary>
    private static int ByteOffset(Register register) => register is >= Register.AH and <= Register.BH ? 1 : 0;

    /// <summary>The shadow of <paramref name="register"/> (its own size) into <paramref name="into"/>.</summary>
    public static void Read(ContextBlock* c, Register register, Span<byte> into)
    {
        into.Clear();
        if (Slot(register) is not { } slot) return;
        if (((Dirty(c) >> slot.Bit) & 1) == 0) return;
        int size = Math.Min(into.Length, register.Bytes());
        new ReadOnlySpan<byte>((byte*)c + slot.Offset + ByteOffset(register), size).CopyTo(into);
    }

    /// <summary>
    /// Writes <paramref name="shadow"/> as the shadow of <paramref name="register"/>: a 32-bit general
    /// register write defines the upper half (it zeroes it), a VEX/EVEX vector write defines the rest
    /// of the zmm (<paramref name="zeroUpper"/>), narrower writes keep the rest.
    /// </summary>
    public static void Write(ContextBlock* c, Register register, ReadOnlySpan<byte> shadow, bool zeroUpper)
    {
        if (Slot(register) is not { } slot) return;
        byte* full = (byte*)c + slot.Offset;
        var whole = new Span<byte>(full, slot.FullSize);
        if (((Dirty(c) >> slot.Bit) & 1) == 0) whole.Clear();
        int size = register.Bytes();
        bool clearsRest = register.IsGPR32() || (zeroUpper && slot.FullSize == 64);
        if (clearsRest) whole.Clear();
        shadow[..Math.Min(size, shadow.Length)].CopyTo(whole[ByteOffset(register)..]);
        SetDirty(c, slot.Bit, whole.ContainsAnyExcept((byte)0));
    }

    /// <summary>Defines <paramref name="register"/>'s full register.</summary>
    public static void Define(ContextBlock* c, Register register)
    {
        if (Slot(register) is not { } slot) return;
        new Span<byte>((byte*)c + slot.Offset, slot.FullSize).Clear();
        SetDirty(c, slot.Bit, false);
    }

    /// <summary>Whether any bit of <paramref name="register"/> (its own size) is undefined.</summary>
    public static bool IsUndefined(ContextBlock* c, Register register)
    {
        Span<byte> shadow = stackalloc byte[64];
        Read(c, register, shadow);
        return shadow[..Math.Max(1, Math.Min(64, register.Bytes()))].ContainsAnyExcept((byte)0);
    }

    public static void SetFlags(ContextBlock* c, ulong undefined)
    {
        Flags(c) = undefined & StatusFlags;
        SetDirty(c, FlagsBit, Flags(c) != 0);
    }

    /// <summary>Everything defined (a thread starts, a system call returns with the engine's registers).</summary>
    public static void DefineAll(ContextBlock* c)
    {
        new Span<byte>((byte*)c + MemcheckSlots.GprShadow, MemcheckSlots.End - MemcheckSlots.GprShadow).Clear();
        Flags(c) = 0;
        Dirty(c) = 0;
    }

    private static void SetDirty(ContextBlock* c, int bit, bool dirty)
    {
        if (dirty) Dirty(c) |= 1UL << bit;
        else Dirty(c) &= ~(1UL << bit);
    }

    /// <summary>The gs offset of a register's full shadow, its dirty bit and its full size (null: no shadow).</summary>
    public static (int Offset, int Bit, int FullSize)? SlotOf(Register register) => Slot(register);

    /// <summary>The dirty bit of a register (for the propagating mode's pre-check masks); -1: none.</summary>
    public static int DirtyBit(Register register) => (uint)register < (uint)DirtyBits.Length ? DirtyBits[(int)register] : -1;

    // By register, computed once: asked per used register per instruction while translating
    // (Iced's register tables behind each question cost ~1.5% of cc1plus's translation).
    private static readonly sbyte[] DirtyBits = MakeDirtyBits();

    private static sbyte[] MakeDirtyBits()
    {
        // Every Register value fits a byte: no Enum.GetValues (NativeAOT builds the enum's reflection metadata for it, ~0.4 ms of every start).
        var bits = new sbyte[256];
        for (int r = 0; r < bits.Length; r++)
        {
            var register = (Register)r;
            bits[r] = (sbyte)(register is >= Register.ST0 and <= Register.ST7 ? X87Bit : Slot(register)?.Bit ?? -1);
        }
        return bits;
    }
}
