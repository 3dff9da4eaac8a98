namespace Checker.MemcheckTool.Heap;

/// <summary>
/// A block the leak scan reports: a definite leak (the leader of its clique, with the bytes and
/// blocks lost through it) or a possible leak (reached only through a pointer into a block's middle).
/// </summary>
public sealed record LeakedBlock(HeapChunk Chunk, bool Possible, ulong IndirectBytes, int IndirectBlocks);
