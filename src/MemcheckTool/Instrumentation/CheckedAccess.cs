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
/// hundreds of thousands, kept for the slow path's reports), and a compact one (24 bytes: registers,
/// scale, extent and element size in bytes, the flags in one), as every site keeps one.
/// </summary>
public readonly record struct CheckedAccess
{
    private const byte WriteFlag = 1, ReadFlag = 2, PackedFlag = 4;

    private readonly long _displacement;
    private readonly int _size;
    private readonly byte _base, _index, _opMask, _scale, _extent, _elementSize, _flags;

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

    public Register Base { get => (Register)_base; init => _base = checked((byte)value); }
    public Register Index { get => (Register)_index; init => _index = checked((byte)value); }
    public int Scale { get => _scale; init => _scale = checked((byte)value); }
    public long Displacement { get => _displacement; init => _displacement = value; }
    public int Size { get => _size; init => _size = value; }
    public bool IsWrite { get => (_flags & WriteFlag) != 0; init => _flags = With(_flags, WriteFlag, value); }
    public AccessExtent Extent { get => (AccessExtent)_extent; init => _extent = checked((byte)value); }
    public Register OpMask { get => (Register)_opMask; init => _opMask = checked((byte)value); }
    public int ElementSize { get => _elementSize; init => _elementSize = checked((byte)value); }
    public bool IsRead { get => (_flags & ReadFlag) != 0; init => _flags = With(_flags, ReadFlag, value); }

    /// <summary>vpcompress* to memory / vpexpand* from memory: the elements touched are the first popcount(mask), packed.</summary>
    public bool Packed { get => (_flags & PackedFlag) != 0; init => _flags = With(_flags, PackedFlag, value); }

    private static byte With(byte flags, byte flag, bool on) => (byte)(on ? flags | flag : flags & ~flag);

    /// <summary><c>[base + index*scale + displacement + offset]</c>, for <c>lea</c>.</summary>
    public MemoryOperand Operand(long offset = 0) =>
        new(Base, Index, Scale, Displacement + offset, Displacement + offset == 0 ? 0 : 1, false, Register.None);   // displacement size 1: Iced takes a disp8 where it fits

    /// <summary><c>lea destination, <see cref="Operand"/></c>: written directly for 64-bit addresses (most accesses), through Iced otherwise.</summary>
    public void EmitLea(Checker.Engine.Emission.CodeBuffer code, Register destination, long offset = 0)
    {
        if (Base.IsGPR32() || Index.IsGPR32()) code.Encode(Instruction.Create(Code.Lea_r64_m, destination, Operand(offset)));
        else code.Lea(destination, Base, Index, Scale, Displacement + offset);
    }
}
