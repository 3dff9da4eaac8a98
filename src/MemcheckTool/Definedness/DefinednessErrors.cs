using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.Definedness;

/// <summary>An undefined value used where it matters: what was read, and the stack of the use (its innermost pc exact).</summary>
public sealed record UninitializedError(string What, ulong[] Stack, HeapChunk? Chunk = null)
{
    /// <summary>False when the stack starts at a return address (a replaced function's caller), true when at the using instruction.</summary>
    public bool InnermostIsExact { get; init; } = true;
}

/// <summary>Memory a system call would read or write that the program may not touch (Valgrind's "points to unaddressable byte(s)").</summary>
public sealed record ParameterAddressError(string What, ulong Address, ulong Size, ulong[] Stack, HeapChunk? Chunk);
