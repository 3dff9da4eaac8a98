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
    private int[] _slots = new int[1 << 12];   // a stack's number + 1; 0: empty
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
            for (int i = (int)hash & mask; ; i = (i + 1) & mask)
            {
                int stored = _slots[i] - 1;
                if (stored < 0)
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
                    _slots[i] = id + 1;
                    if (++_count * 2 > _slots.Length) Grow();
                    return id;
                }
                if (frames.SequenceEqual(_stacks[stored])) return stored;
            }
        }
    }

    private static ulong Hash(ReadOnlySpan<ulong> frames)
    {
        ulong hash = 0xcbf2_9ce4_8422_2325;   // FNV-1a over whole words
        foreach (ulong pc in frames) hash = (hash ^ pc) * 0x0000_0100_0000_01b3;
        return hash ^ (hash >> 29);
    }

    private void Grow()
    {
        _slots = new int[_slots.Length * 2];
        int mask = _slots.Length - 1;
        for (int id = 0; id < _count; id++)
        {
            int i = (int)Hash(_stacks[id]) & mask;
            while (_slots[i] != 0) i = (i + 1) & mask;
            _slots[i] = id + 1;
        }
    }
}
