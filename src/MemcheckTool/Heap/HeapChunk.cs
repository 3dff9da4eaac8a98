namespace Checker.MemcheckTool.Heap;

/// <summary>One block of the guest heap: what the program asked for, where it lies, who made and freed it.</summary>
/// <remarks>
/// The heap reuses the object of a block that left quarantine for a later block
/// (<see cref="Reuse"/>): a new one per malloc was a tenth of a malloc/free pair in the garbage
/// collector. Nothing keeps a chunk past its block's recycling (reports copy what they show).
/// </remarks>
public sealed class HeapChunk(ulong user, ulong size, ulong blockStart, ulong blockSize, AllocationKind kind, ulong[] allocStack, byte routine = 0)
{
    /// <summary>The address returned to the program.</summary>
    public ulong User { get; private set; } = user;
    /// <summary>The size the program asked for (what malloc_usable_size reports).</summary>
    public ulong Size { get; private set; } = size;
    /// <summary>The whole block including redzones, as carved from the arena.</summary>
    public ulong BlockStart { get; private set; } = blockStart;
    public ulong BlockSize { get; private set; } = blockSize;
    public AllocationKind Kind { get; private set; } = kind;
    /// <summary>The replaced routine that allocated it (<see cref="AllocationRoutines"/>; 0: none).</summary>
    public byte Routine { get; private set; } = routine;
    public ulong[] AllocStack { get; private set; } = allocStack;
    public ulong[]? FreeStack { get; set; }
    public bool Freed => FreeStack != null;
    /// <summary>The chunk's number in the heap's <see cref="ChunkTable"/>.</summary>
    public int Slot { get; set; }

    public bool ContainsBlockAddress(ulong address) => address >= BlockStart && address < BlockStart + BlockSize;

    /// <summary>This object, describing a new block (its previous block has left the heap's tables).</summary>
    internal HeapChunk Reuse(ulong user, ulong size, ulong blockStart, ulong blockSize, AllocationKind kind, ulong[] allocStack, byte routine)
    {
        User = user;
        Size = size;
        BlockStart = blockStart;
        BlockSize = blockSize;
        Kind = kind;
        Routine = routine;
        AllocStack = allocStack;
        FreeStack = null;
        return this;
    }
}
