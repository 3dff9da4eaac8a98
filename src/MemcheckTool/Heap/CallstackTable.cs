namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Interned callstacks: every malloc and free records one, and nearly all of them repeat, so each
/// distinct stack is stored once and shared (Valgrind's ExeContexts and Dr. Memory's packed
/// callstack table do the same). Besides memory this spares the garbage collector two arrays per
/// malloc/free pair, whose streaming through the caches cost more than the walk itself. Each stack
/// has a number (<see cref="InternId"/>): the heap's tables keep numbers, not references, so its
/// hot path stores no object reference (each one a garbage-collector write barrier). Entries live
/// as long as the process, as in Valgrind.
/// </summary>
public sealed class CallstackTable
{
    // Per slot: the stack's hash in the high half, its number + 1 in the low half (0: empty). A probe
    // compares the hash first: stacks are separate arrays, each compared one a likely cache miss.
    private ulong[] _slots = new ulong[1 << 12];
    private ulong[][] _stacks = new ulong[1 << 10][];   // by number
    private int _count;
    private readonly Lock _lock = new();

    public int Count => _count;

    /// <summary>The shared array equal to <paramref name="frames"/>.</summary>
    public ulong[] Intern(ReadOnlySpan<ulong> frames) => this[InternId(frames)];

    /// <summary>The stack numbered <paramref name="id"/> (from <see cref="InternId"/>); callers must not modify it.</summary>
    public ulong[] this[int id] => Volatile.Read(ref _stacks)[id];

    /// <summary>The number of the stack equal to <paramref name="frames"/>.</summary>
    public int InternId(ReadOnlySpan<ulong> frames)
    {
        ulong hash = Hash(frames);
        lock (_lock)
        {
            int mask = _slots.Length - 1;
            ulong tag = hash & 0xffff_ffff_0000_0000;
            for (int i = Index(hash, mask); ; i = (i + 1) & mask)
            {
                ulong slot = _slots[i];
                if (slot == 0)
                {
                    int id = _count;
                    if (id == _stacks.Length)
                    {
                        // Readers without the lock see the old array or the whole new one.
                        ulong[][] grown = new ulong[id * 2][];
                        Array.Copy(_stacks, grown, id);
                        Volatile.Write(ref _stacks, grown);
                    }
                    _stacks[id] = frames.ToArray();
                    _slots[i] = tag | (uint)(id + 1);
                    if (++_count * 2 > _slots.Length) Grow();
                    return id;
                }
                int stored = (int)(uint)slot - 1;
                if ((slot & 0xffff_ffff_0000_0000) == tag && frames.SequenceEqual(_stacks[stored])) return stored;
            }
        }
    }

    private static ulong Hash(ReadOnlySpan<ulong> frames)
    {
        ulong hash = 0xcbf2_9ce4_8422_2325;   // FNV-1a over whole words
        foreach (ulong pc in frames) hash = (hash ^ pc) * 0x0000_0100_0000_01b3;
        return hash ^ (hash >> 29);
    }

    // The slot from the hash's well-mixed high bits (FNV's low bits depend only on the pcs' low bits).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int Index(ulong hash, int mask) => (int)((hash * 0x9E37_79B9_7F4A_7C15) >> 40) & mask;

    private void Grow()
    {
        _slots = new ulong[_slots.Length * 2];
        int mask = _slots.Length - 1;
        for (int id = 0; id < _count; id++)
        {
            ulong hash = Hash(_stacks[id]);
            int i = Index(hash, mask);
            while (_slots[i] != 0) i = (i + 1) & mask;
            _slots[i] = (hash & 0xffff_ffff_0000_0000) | (uint)(id + 1);
        }
    }
}
