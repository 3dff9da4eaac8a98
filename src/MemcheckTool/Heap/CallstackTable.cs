namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Interned callstacks: every malloc and free records one, and nearly all of them repeat, so each
/// distinct stack is stored once and shared (Valgrind's ExeContexts and Dr. Memory's packed
/// callstack table do the same). Besides memory this spares the garbage collector two arrays per
/// malloc/free pair, whose streaming through the caches cost more than the walk itself. Entries
/// live as long as the process, as in Valgrind.
/// </summary>
public sealed class CallstackTable
{
    private ulong[]?[] _slots = new ulong[]?[1 << 12];
    private int _count;
    private readonly Lock _lock = new();

    public int Count => _count;

    /// <summary>The shared array equal to <paramref name="frames"/>.</summary>
    public ulong[] Intern(ReadOnlySpan<ulong> frames)
    {
        ulong hash = Hash(frames);
        lock (_lock)
        {
            int mask = _slots.Length - 1;
            for (int i = (int)hash & mask; ; i = (i + 1) & mask)
            {
                ulong[]? stored = _slots[i];
                if (stored == null)
                {
                    ulong[] added = frames.ToArray();
                    _slots[i] = added;
                    if (++_count * 2 > _slots.Length) Grow();
                    return added;
                }
                if (frames.SequenceEqual(stored)) return stored;
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
        ulong[]?[] old = _slots;
        _slots = new ulong[]?[old.Length * 2];
        int mask = _slots.Length - 1;
        foreach (ulong[]? stack in old)
        {
            if (stack == null) continue;
            int i = (int)Hash(stack) & mask;
            while (_slots[i] != null) i = (i + 1) & mask;
            _slots[i] = stack;
        }
    }
}
