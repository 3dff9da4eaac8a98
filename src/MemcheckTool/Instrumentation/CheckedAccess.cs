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
/// hundreds of thousands, kept for the slow path's reports).
/// </summary>
public readonly record struct CheckedAccess(
    Register Base,
    Register Index,
    int Scale,
    long Displacement,
    int Size,
    bool IsWrite,
    AccessExtent Extent = AccessExtent.Fixed,
    Register OpMask = Register.None,
    int ElementSize = 0,
    bool IsRead = true)
{
    /// <summary>vpcompress* to memory / vpexpand* from memory: the elements touched are the first popcount(mask), packed.</summary>
    public bool Packed { get; init; }

    /// <summary><c>[base + index*scale + displacement + offset]</c>, for <c>lea</c>.</summary>
    public MemoryOperand Operand(long offset = 0) =>
        new(Base, Index, Scale, Displacement + offset, Displacement + offset == 0 ? 0 : (Base.IsGPR32() || Index.IsGPR32() ? 4 : 8), false, Register.None);
}
