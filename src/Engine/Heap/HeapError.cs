namespace Checker.Engine.Heap;

/// <summary>What is wrong with a heap call's argument.</summary>
public enum HeapErrorKind { DoubleFree, FreeOfNonHeapAddress, FreeOfInteriorPointer, MismatchedFree }

/// <summary>An invalid heap argument detected by the replacement allocator (a record: Reports presents it).</summary>
public sealed record HeapError(HeapErrorKind Kind, string Routine, ulong Address, ulong[] Stack, HeapChunk? Chunk);
