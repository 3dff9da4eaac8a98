using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.Definedness;

/// <summary>An undefined value used where it matters: what was read, and the stack of the use (its innermost pc exact).</summary>
public sealed record UninitializedError(string What, ulong[] Stack, HeapChunk? Chunk = null)
{
    /// <summary>False when the stack starts at a return address (a replaced function's caller), true when at the using instruction.</summary>
    public bool InnermostIsExact { get; init; } = true;

    /// <summary>--track-origins, for an undefined value that came from the stack: the frame that holds it.</summary>
    public StackOrigin? FromStack { get; init; }
}

/// <summary>
/// Where on the stack an undefined value came from: a pc in the live frame holding it (the use's
/// own pc when <see cref="PcIsExact"/>, else a return address), or a frame that had returned
/// (below the stack pointer) when <see cref="Returned"/>.
/// </summary>
public sealed record StackOrigin(ulong Pc, bool PcIsExact, bool Returned);

/// <summary>Memory a system call would read or write that the program may not touch (Valgrind's "points to unaddressable byte(s)").</summary>
public sealed record ParameterAddressError(string What, ulong Address, ulong Size, ulong[] Stack, HeapChunk? Chunk);
