using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// A failed VALGRIND_CHECK_MEM_IS_ADDRESSABLE or VALGRIND_CHECK_MEM_IS_DEFINED (Valgrind's
/// ClientCheck error): the range asked about, its first bad byte, whether that byte is undefined
/// (else unaddressable), the stack at the request (its first pc exact), and what the byte belongs
/// to: a heap or custom block, a block described by VALGRIND_CREATE_BLOCK.
/// </summary>
public sealed record ClientCheckError(string Request, ulong Start, ulong Length, ulong BadAddress, bool Undefined, ulong[] Stack,
    HeapChunk? Chunk, string? ClientBlock);
