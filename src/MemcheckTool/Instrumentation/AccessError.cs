using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>Where an unaddressable access went.</summary>
public enum AccessErrorPlace
{
    /// <summary>A live block's redzone or the padding after its size (overflow/underflow).</summary>
    BeyondHeapBounds,
    /// <summary>A freed block waiting in the quarantine (use after free).</summary>
    FreedMemory,
    /// <summary>The stack below rsp - 128 (the SysV red zone).</summary>
    BeyondTopOfStack,
    /// <summary>Heap arena space that belongs to no block now.</summary>
    UnallocatedHeap,
}

/// <summary>
/// An unaddressable access found by an inline check (a record: src/Reports presents it).
/// <see cref="Stack"/> starts at the accessing instruction itself (an exact pc, not a return
/// address); <see cref="Offset"/> is how far the access is from what it missed: bytes beyond or
/// before the block, into the freed block, or below the stack pointer.
/// </summary>
public sealed record AccessError(
    AccessErrorPlace Place,
    bool IsWrite,
    ulong Address,
    ulong Size,
    ulong Offset,
    bool BeforeBlock,
    ulong[] Stack,
    HeapChunk? Chunk)
{
    /// <summary>How the address relates to a range the program named with VALGRIND_CREATE_BLOCK, if any.</summary>
    public string? ClientBlock { get; init; }
}
