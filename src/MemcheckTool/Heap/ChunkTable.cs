namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The heap's blocks (live and quarantined) by user address, without hashing: each chunk gets a
/// slot, and the slot's number is written into the block's left redzone just below the user
/// address, where the program may not touch it without a report. A lookup reads that number and
/// accepts it only if the slot's chunk starts at the address, so a redzone the program overwrote
/// costs a scan, never a wrong answer. (Dr. Memory keeps its chunk header in the redzone too.)
/// </summary>
public sealed unsafe class ChunkTable
{
    /// <summary>Where the slot number sits, below the user address (inside the minimum 16-byte redzone).</summary>
    private const ulong TagOffset = 8;

    private HeapChunk?[] _slots = new HeapChunk?[4096];
    private int _used;   // slots [0, _used) have been handed out at least once
    private readonly Stack<int> _freeSlots = new();

    public int Count { get; private set; }

    public void Add(HeapChunk chunk)
    {
        int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _used++;
        if (slot == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
        _slots[slot] = chunk;
        chunk.Slot = slot;
        *(ulong*)(chunk.User - TagOffset) = (ulong)slot;
        Count++;
    }

    /// <summary>Removes the chunk in <paramref name="slot"/> (its <see cref="HeapChunk.Slot"/>).</summary>
    public void Remove(int slot)
    {
        _slots[slot] = null;
        _freeSlots.Push(slot);
        Count--;
    }

    /// <summary>The chunk whose user address is <paramref name="user"/>; the caller guarantees the tag's bytes are mapped.</summary>
    public HeapChunk? Find(ulong user)
    {
        ulong tag = *(ulong*)(user - TagOffset);
        if (tag < (ulong)_used && _slots[tag] is HeapChunk chunk && chunk.User == user) return chunk;
        return Scan(user);
    }

    // Apart from Find, whose every call would otherwise allocate the closure a lambda over user needs.
    private HeapChunk? Scan(ulong user)
    {
        for (int i = 0; i < _used; i++)
            if (_slots[i] is HeapChunk chunk && chunk.User == user) return chunk;
        return null;
    }

    public HeapChunk? FirstOrDefault(Func<HeapChunk, bool> predicate)
    {
        for (int i = 0; i < _used; i++)
            if (_slots[i] is HeapChunk chunk && predicate(chunk)) return chunk;
        return null;
    }

    public List<HeapChunk> Where(Func<HeapChunk, bool> predicate)
    {
        var found = new List<HeapChunk>();
        for (int i = 0; i < _used; i++)
            if (_slots[i] is HeapChunk chunk && predicate(chunk)) found.Add(chunk);
        return found;
    }
}
