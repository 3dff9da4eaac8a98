namespace Checker.MemcheckTool.Heap;

/// <summary>One block of the guest heap: what the program asked for, where it lies, who made and freed it.</summary>
/// <remarks>
/// The heap's own tables keep blocks as values (<see cref="ChunkTable.Entry"/>); a chunk is a copy
/// made when a report, the leak scan or a client request needs one, so nothing here changes when
/// the block does. Client requests' blocks (MALLOCLIKE, pools) are chunks of their own.
/// </remarks>
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
    public bool Freed => FreeStack != null || FreedSince;

    /// <summary>
    /// A block an origin named that has been freed since and left the delayed frees: its free stack
    /// is no longer known (--track-origins, <see cref="GuestHeap.ChunkOf"/>).
    /// </summary>
    public bool FreedSince { get; init; }

    public bool ContainsBlockAddress(ulong address) => address >= BlockStart && address < BlockStart + BlockSize;
}

/// <summary>
/// The block an undefined value was read from, as --track-origins remembers it when it is read
/// (<see cref="GuestHeap.OriginBlockAt"/>): its slot then and what identifies it, so a report names it
/// even after the block is freed and its memory reused.
/// </summary>
public readonly record struct OriginBlock(int Slot, ulong User, ulong Size, int AllocStack, AllocationKind Kind, byte Routine);
