namespace Checker.MemcheckTool.Heap;

/// <summary>What is wrong with a heap call's argument.</summary>
public enum HeapErrorKind
{
    DoubleFree, FreeOfNonHeapAddress, FreeOfInteriorPointer, MismatchedFree, FishyArgument,
    /// <summary>A client request freed or changed a block its allocator never described (VALGRIND_FREELIKE_BLOCK, VALGRIND_MEMPOOL_FREE...).</summary>
    UnknownCustomBlock,
    /// <summary>A MEMPOOL request named no pool (Valgrind's "Illegal memory pool address").</summary>
    IllegalMempool,
}

/// <summary>Why a size or alignment argument is fishy (Valgrind's "fishy value" errors, and the alignments glibc rounds or refuses).</summary>
public enum FishyReason
{
    /// <summary>A size with its top bit set: a negative number passed as size_t (Valgrind: "fishy (possibly negative) value").</summary>
    Negative,
    /// <summary>count * size does not fit in size_t (calloc, reallocarray).</summary>
    Overflow,
    /// <summary>An alignment that is not a power of two (or, for posix_memalign, not a multiple of the pointer size).</summary>
    BadAlignment,
}

/// <summary>A fishy argument: its name in the function's prototype, its value, and for an overflow the other factor.</summary>
public sealed record FishyArgument(string Name, ulong Value, FishyReason Reason, string? OtherName = null, ulong OtherValue = 0);

/// <summary>An invalid heap argument detected by the replacement allocator (a record: Reports presents it).</summary>
public sealed record HeapError(HeapErrorKind Kind, string Routine, ulong Address, ulong[] Stack, HeapChunk? Chunk, FishyArgument? Fishy = null);
