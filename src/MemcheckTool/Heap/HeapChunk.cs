namespace Checker.MemcheckTool.Heap;

/// <summary>One block of the guest heap: what the program asked for, where it lies, who made and freed it.</summary>
public sealed class HeapChunk(ulong user, ulong size, ulong blockStart, ulong blockSize, AllocationKind kind, ulong[] allocStack, byte routine = 0)
{
    /// <summary>The address returned to the program.</summary>
    public ulong User { get; } = user;
    /// <summary>The size the program asked for (what malloc_usable_size reports).</summary>
    public ulong Size { get; } = size;
    /// <summary>The whole block including redzones, as carved from the arena.</summary>
    public ulong BlockStart { get; } = blockStart;
    public ulong BlockSize { get; } = blockSize;
    public AllocationKind Kind { get; } = kind;
    /// <summary>The replaced routine that allocated it (<see cref="AllocationRoutines"/>; 0: none).</summary>
    public byte Routine { get; } = routine;
    public ulong[] AllocStack { get; } = allocStack;
    public ulong[]? FreeStack { get; set; }
    public bool Freed => FreeStack != null;
    /// <summary>The chunk's number in the heap's <see cref="ChunkTable"/>.</summary>
    public int Slot { get; set; }

    public bool ContainsBlockAddress(ulong address) => address >= BlockStart && address < BlockStart + BlockSize;
}
