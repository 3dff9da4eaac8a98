using System.Runtime.CompilerServices;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The heap's blocks (live and quarantined) by user address, without hashing: each chunk gets a
/// slot, and the slot's number is written into the block's left redzone just below the user
/// address, where the program may not touch it without a report. A lookup reads that number and
/// accepts it only if the slot's block starts at the address, so a redzone the program overwrote
/// costs a scan, never a wrong answer. (Dr. Memory keeps its chunk header in the redzone too.)
/// </summary>
/// <remarks>
/// Each slot holds, next to the chunk, a copy of what free needs (address, size, extent, family,
/// whether freed): the chunk object, allocated long before, is a cache miss of its own, and the
/// slot's entry is one read. <see cref="MarkFreed"/> keeps the copy's state with the chunk's.
/// </remarks>
public sealed unsafe class ChunkTable
{
    /// <summary>Where the slot number sits, below the user address (inside the minimum 16-byte redzone).</summary>
    private const ulong TagOffset = 8;

    /// <summary>A slot: the chunk and the fields free reads, side by side.</summary>
    public struct Entry
    {
        public HeapChunk? Chunk;
        public ulong User, Size, BlockStart, BlockSize;
        public AllocationKind Kind;
        public bool Freed;
    }

    private Entry[] _slots = new Entry[4096];
    private int _used;   // slots [0, _used) have been handed out at least once
    private readonly Stack<int> _freeSlots = new();

    public int Count { get; private set; }

    public void Add(HeapChunk chunk)
    {
        int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _used++;
        if (slot == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
        _slots[slot] = new Entry
        {
            Chunk = chunk, User = chunk.User, Size = chunk.Size, BlockStart = chunk.BlockStart, BlockSize = chunk.BlockSize,
            Kind = chunk.Kind, Freed = chunk.Freed,
        };
        chunk.Slot = slot;
        *(ulong*)(chunk.User - TagOffset) = (ulong)slot;
        Count++;
    }

    /// <summary>Removes the chunk in <paramref name="slot"/> (its <see cref="HeapChunk.Slot"/>).</summary>
    public void Remove(int slot)
    {
        _slots[slot] = default;
        _freeSlots.Push(slot);
        Count--;
    }

    /// <summary>The slot of the block whose user address is <paramref name="user"/>, or -1; the caller guarantees the tag's bytes are mapped.</summary>
    public int SlotOf(ulong user)
    {
        ulong tag = *(ulong*)(user - TagOffset);
        if (tag < (ulong)_used && _slots[tag].User == user) return (int)tag;
        return Scan(user);
    }

    /// <summary>
    /// Starts bringing in the slot the tag below <paramref name="user"/> names (a hint: nothing is
    /// checked or kept), so a free that first captures its callstack finds it in the cache.
    /// </summary>
    public void Prefetch(ulong user)
    {
        ulong tag = *(ulong*)(user - TagOffset);
        Entry[] slots = _slots;
        if (tag < (ulong)slots.Length) System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref slots[tag]));
    }

    /// <summary>The slot <paramref name="slot"/> (from <see cref="SlotOf"/>): its entry, to read.</summary>
    public ref readonly Entry At(int slot) => ref _slots[slot];

    /// <summary>The chunk in <paramref name="slot"/> was freed (its <see cref="HeapChunk.FreeStack"/> set).</summary>
    public void MarkFreed(int slot) => _slots[slot].Freed = true;

    /// <summary>The chunk whose user address is <paramref name="user"/>; the caller guarantees the tag's bytes are mapped.</summary>
    public HeapChunk? Find(ulong user) => SlotOf(user) is int slot and >= 0 ? _slots[slot].Chunk : null;

    // Apart from SlotOf, whose every call would otherwise allocate the closure a lambda over user needs.
    private int Scan(ulong user)
    {
        for (int i = 0; i < _used; i++)
            if (_slots[i].Chunk != null && _slots[i].User == user) return i;
        return -1;
    }

    public HeapChunk? FirstOrDefault(Func<HeapChunk, bool> predicate)
    {
        for (int i = 0; i < _used; i++)
            if (_slots[i].Chunk is HeapChunk chunk && predicate(chunk)) return chunk;
        return null;
    }

    public List<HeapChunk> Where(Func<HeapChunk, bool> predicate)
    {
        var found = new List<HeapChunk>();
        for (int i = 0; i < _used; i++)
            if (_slots[i].Chunk is HeapChunk chunk && predicate(chunk)) found.Add(chunk);
        return found;
    }
}
