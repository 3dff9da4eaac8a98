namespace Checker.MemcheckTool.State;

/// <summary>
/// Items numbered from 0 in the order added, in fixed chunks: one writer at a time (translation,
/// under the cache lock), readers on any thread without a lock (tool exits, a fault's analysis).
/// An item is stored, then the count that covers it is published; a grown chunk directory is
/// published before that count. A lock per add and per read was ~1% of cc1plus's translation.
/// Chunks stay below the large-object threshold (each large-object allocation counts towards a full
/// collection) and are not cleared first when <typeparamref name="T"/> holds no references (an item
/// is read only once written: clearing fresh chunks was a pass over cold memory).
/// </summary>
public sealed class AppendOnlyTable<T>
{
    private const int ChunkBits = 10, ChunkMask = (1 << ChunkBits) - 1;
    private T[][] _chunks = new T[16][];
    private int _count;

    /// <summary>Items published so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds <paramref name="item"/> (one writer at a time); its number.</summary>
    public int Add(in T item)
    {
        int id = _count;
        if ((id & ChunkMask) == 0) AddChunk(id >> ChunkBits, GC.AllocateUninitializedArray<T>(1 << ChunkBits));
        _chunks[id >> ChunkBits][id & ChunkMask] = item;
        Volatile.Write(ref _count, id + 1);
        return id;
    }

    /// <summary>Item <paramref name="id"/>, by reference (read only); out of range throws.</summary>
    public ref readonly T this[int id]
    {
        get
        {
            if ((uint)id >= (uint)Volatile.Read(ref _count)) throw new ArgumentOutOfRangeException(nameof(id), $"item {id} of {Count}");
            return ref Volatile.Read(ref _chunks)[id >> ChunkBits][id & ChunkMask];
        }
    }

    /// <summary>The items as stored, chunk by chunk (the last one cut at the count), for a snapshot.</summary>
    public IEnumerable<ReadOnlyMemory<T>> Chunks()
    {
        int count = Count;
        T[][] chunks = Volatile.Read(ref _chunks);
        for (int c = 0; c << ChunkBits < count; c++)
            yield return chunks[c].AsMemory(0, Math.Min(1 << ChunkBits, count - (c << ChunkBits)));
    }

    /// <summary>Fills an empty table from a snapshot's items, in order (before any reader).</summary>
    public void Restore(IEnumerable<T> items)
    {
        if (_count != 0) throw new InvalidOperationException("the table is in use already");
        foreach (T item in items) Add(item);
    }

    // The directory grown by a copy published whole: a reader holds the old one or the new one,
    // either holding every chunk the count it read covers.
    private void AddChunk(int index, T[] chunk)
    {
        T[][] directory = _chunks;
        if (index < directory.Length)
        {
            Volatile.Write(ref directory[index], chunk);
            return;
        }
        var grown = new T[directory.Length * 2][];
        Array.Copy(directory, grown, directory.Length);
        grown[index] = chunk;
        Volatile.Write(ref _chunks, grown);
    }
}
