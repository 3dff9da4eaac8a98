using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>How a checked access finds its extent at run time.</summary>
public enum AccessExtent
{
    /// <summary>One operand of a known size.</summary>
    Fixed,
    /// <summary>A rep movs/stos/lods: rcx elements from the operand's address, backwards when the direction flag is set.</summary>
    RepeatCount,
    /// <summary>A repe/repne cmps/scas: it stops at a (mis)match, so it is checked after it ran, over the elements it
    /// compared (rcx before minus rcx after) from the pointer's value before.</summary>
    CountedAfter,
}

/// <summary>
/// One memory access of a guest instruction that gets an inline check: the address expression
/// (as <c>lea</c> operands), its size, whether it writes, and the AVX-512 mask that selects its
/// elements. Built by <see cref="MemoryAccessClassifier"/> from Iced's description of the
/// instruction, never from per-opcode code. A value (no object per access: a large program has
/// hundreds of thousands, kept for the slow path's reports), and a compact one (16 bytes: the
/// displacement, then size, registers, scale, extent, element size and flags packed in one word;
/// 24 before session 24), as every site keeps one.
/// </summary>
public readonly record struct CheckedAccess
{
    private const int WriteFlag = 1, ReadFlag = 2, PackedFlag = 4, FsFlag = 8;

    // Bit fields of _packed: size 16 (at most MemoryAccessClassifier.MaxCheckedSize), three registers
    // 8 each (Iced's Register values fit a byte), scale 4, extent 4, element size 8, flags 8.
    private const int SizeShift = 0, BaseShift = 16, IndexShift = 24, OpMaskShift = 32, ScaleShift = 40, ExtentShift = 44,
        ElementSizeShift = 48, FlagsShift = 56;

    private readonly long _displacement;
    private readonly ulong _packed;

    public CheckedAccess(Register Base, Register Index, int Scale, long Displacement, int Size, bool IsWrite,
        AccessExtent Extent = AccessExtent.Fixed, Register OpMask = Register.None, int ElementSize = 0, bool IsRead = true)
    {
        this.Base = Base;
        this.Index = Index;
        this.Scale = Scale;
        this.Displacement = Displacement;
        this.Size = Size;
        this.IsWrite = IsWrite;
        this.Extent = Extent;
        this.OpMask = OpMask;
        this.ElementSize = ElementSize;
        this.IsRead = IsRead;
    }

    public Register Base { get => (Register)Field(BaseShift, 8); init => _packed = With(BaseShift, 8, (int)value); }
    public Register Index { get => (Register)Field(IndexShift, 8); init => _packed = With(IndexShift, 8, (int)value); }
    public int Scale { get => Field(ScaleShift, 4); init => _packed = With(ScaleShift, 4, value); }
    public long Displacement { get => _displacement; init => _displacement = value; }
    public int Size { get => Field(SizeShift, 16); init => _packed = With(SizeShift, 16, value); }
    public bool IsWrite { get => (Field(FlagsShift, 8) & WriteFlag) != 0; init => _packed = WithFlag(WriteFlag, value); }
    public AccessExtent Extent { get => (AccessExtent)Field(ExtentShift, 4); init => _packed = With(ExtentShift, 4, (int)value); }
    public Register OpMask { get => (Register)Field(OpMaskShift, 8); init => _packed = With(OpMaskShift, 8, (int)value); }
    public int ElementSize { get => Field(ElementSizeShift, 8); init => _packed = With(ElementSizeShift, 8, value); }
    public bool IsRead { get => (Field(FlagsShift, 8) & ReadFlag) != 0; init => _packed = WithFlag(ReadFlag, value); }

    /// <summary>vpcompress* to memory / vpexpand* from memory: the elements touched are the first popcount(mask), packed.</summary>
    public bool Packed { get => (Field(FlagsShift, 8) & PackedFlag) != 0; init => _packed = WithFlag(PackedFlag, value); }

    /// <summary>fs-relative (the thread's static TLS): the address adds the guest's fs base (<see cref="Definedness.GlobalTaint"/>).</summary>
    public bool FsRelative { get => (Field(FlagsShift, 8) & FsFlag) != 0; init => _packed = WithFlag(FsFlag, value); }

    private int Field(int shift, int bits) => (int)(_packed >> shift) & ((1 << bits) - 1);

    /// <summary>_packed with the field at <paramref name="shift"/> set to <paramref name="value"/> (which must fit its bits).</summary>
    private ulong With(int shift, int bits, int value)
    {
        if ((uint)value >= 1u << bits) throw new ArgumentOutOfRangeException(nameof(value), $"{value} does not fit a {bits}-bit field of a checked access");
        ulong mask = ((1UL << bits) - 1) << shift;
        return (_packed & ~mask) | (ulong)(uint)value << shift;
    }

    private ulong WithFlag(int flag, bool on)
    {
        int flags = Field(FlagsShift, 8);
        return With(FlagsShift, 8, on ? flags | flag : flags & ~flag);
    }

    /// <summary><c>[base + index*scale + displacement + offset]</c>, for <c>lea</c>.</summary>
    public MemoryOperand Operand(long offset = 0) =>
        new(Base, Index, Scale, Displacement + offset, Displacement + offset == 0 ? 0 : 1, false, Register.None);   // displacement size 1: Iced takes a disp8 where it fits

    /// <summary><c>lea destination, <see cref="Operand"/></c>: written directly for 64-bit addresses (most accesses), through Iced otherwise.</summary>
    public void EmitLea(Checker.Engine.Emission.CodeBuffer code, Register destination, long offset = 0)
    {
        if (FsRelative)
        {
            // The guest's fs base, then the operand on it (lea, flag-free). The classifier checks no
            // fs access whose base or index could be the scratch (rcx).
            code.LoadSlot(destination, Checker.Engine.State.ContextOffsets.GuestFsBase);
            if (Base != Register.None && Index != Register.None)
            {
                code.Lea(destination, destination, Base, 1, 0);
                code.Lea(destination, destination, Index, Scale, Displacement + offset);
            }
            else if (Base != Register.None || Index != Register.None)
                code.Lea(destination, destination, Base != Register.None ? Base : Index, Base != Register.None ? 1 : Scale, Displacement + offset);
            else code.Lea(destination, destination, Register.None, 1, Displacement + offset);
            return;
        }
        // A global's absolute address beyond a sign-extended disp32 (a module mapped high): mov, flag-free too.
        if (Base == Register.None && Index == Register.None && Displacement + offset is < int.MinValue or > int.MaxValue)
            code.Encode(Instruction.Create(Code.Mov_r64_imm64, destination, (ulong)(Displacement + offset)));
        else if (Base.IsGPR32() || Index.IsGPR32()) code.Encode(Instruction.Create(Code.Lea_r64_m, destination, Operand(offset)));
        else code.Lea(destination, Base, Index, Scale, Displacement + offset);
    }
}
