using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.Definedness;

/// <summary>An undefined value used where it matters: what was read, and the stack of the use (its innermost pc exact).</summary>
public sealed record UninitializedError(string What, ulong[] Stack, HeapChunk? Chunk = null);

/// <summary>Memory a system call would read or write that the program may not touch (Valgrind's "points to unaddressable byte(s)").</summary>
public sealed record ParameterAddressError(string What, ulong Address, ulong Size, ulong[] Stack, HeapChunk? Chunk);
