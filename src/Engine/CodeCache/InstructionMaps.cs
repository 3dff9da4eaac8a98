namespace Checker.Engine.CodeCache;

/// <summary>
/// Every fragment's instruction map in one store: per guest instruction one 32-bit entry (where its
/// translation starts in the fragment, its length, the register held in gs:[HeldScratch] there),
/// in fixed chunks of plain integers. Three arrays per fragment (pcs, offsets, held registers) were
/// objects that every young collection copied and every full one marked; a fragment now holds
/// only where its entries start. A fragment's instructions are consecutive in the guest (the
/// translator decodes straight on), so the pcs are the start plus the lengths before.
/// Appended under the cache lock; read by any thread (a chunk, once published, never changes
/// for the entries already handed out).
/// </summary>
public sealed class InstructionMaps
{
    private const int ChunkBits = 14;   // 64 KB chunks: below the large-object threshold
    private const int ChunkSize = 1 << ChunkBits;
    private const int OffsetBits = 22;
    private const int LengthBits = 4;
    private const int LengthShift = OffsetBits;
    private const int HeldShift = OffsetBits + LengthBits;

    /// <summary>The largest offset an entry holds (a fragment is far smaller).</summary>
    public const int MaxOffset = (1 << OffsetBits) - 1;

    private uint[][] _chunks = new uint[16][];
    private int _count;

    /// <summary>Entries handed out so far.</summary>
    public int Count => _count;

    /// <summary>Reserves <paramref name="count"/> consecutive entries (never across a chunk); returns the first.</summary>
    public int Reserve(int count)
    {
        if (count > ChunkSize) throw new ArgumentOutOfRangeException(nameof(count));
        int start = _count;
        if ((start & (ChunkSize - 1)) + count > ChunkSize) start = (start + ChunkSize - 1) & ~(ChunkSize - 1);
        int last = (start + count - 1) >> ChunkBits;
        if (last >= _chunks.Length)
        {
            var grown = new uint[_chunks.Length * 2][];
            Array.Copy(_chunks, grown, _chunks.Length);
            Volatile.Write(ref _chunks, grown);
        }
        for (int c = start >> ChunkBits; c <= last; c++) _chunks[c] ??= new uint[ChunkSize];
        _count = start + count;
        return start;
    }

    /// <summary>Sets entry <paramref name="index"/>: the instruction's offset in its fragment, its length (1-15; 0 when unknown) and held register (-1: none).</summary>
    public void Set(int index, int offset, int length, int held)
    {
        if ((uint)offset > MaxOffset) throw new EngineException($"fragment offset {offset} too large for the instruction map");
        Entry(index) = (uint)offset | (uint)(length & 15) << LengthShift | (uint)(held + 1) << HeldShift;
    }

    /// <summary>Changes the held register of entry <paramref name="index"/>.</summary>
    public void SetHeld(int index, int held) =>
        Entry(index) = Entry(index) & ~(31u << HeldShift) | (uint)(held + 1) << HeldShift;

    public int Offset(int index) => (int)(Entry(index) & MaxOffset);

    public int Length(int index) => (int)(Entry(index) >> LengthShift) & 15;

    /// <summary>The held register (hardware numbering), -1 for none.</summary>
    public int Held(int index) => (int)(Entry(index) >> HeldShift) - 1;

    private ref uint Entry(int index) => ref Volatile.Read(ref _chunks)[index >> ChunkBits][index & (ChunkSize - 1)];

    /// <summary>Every entry, in order (a persisted snapshot: <see cref="PersistedTranslations"/>).</summary>
    internal void Save(BinaryWriter writer)
    {
        writer.Write(_count);
        for (int c = 0; c << ChunkBits < _count; c++)
        {
            int length = Math.Min(ChunkSize, _count - (c << ChunkBits));
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_chunks[c].AsSpan(0, length)));
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote, for <see cref="Adopt"/>.</summary>
    internal static (uint[][] Chunks, int Count) Read(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0) throw new InvalidDataException("instruction map count");
        int chunks = (count + ChunkSize - 1) >> ChunkBits;
        var loaded = new uint[Math.Max(16, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)chunks))][];
        for (int c = 0; c < chunks; c++)
        {
            loaded[c] = new uint[ChunkSize];
            int length = Math.Min(ChunkSize, count - (c << ChunkBits));
            reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(loaded[c].AsSpan(0, length)));
        }
        return (loaded, count);
    }

    /// <summary>Takes what <see cref="Read"/> read as this (empty) map's entries.</summary>
    internal void Adopt(uint[][] chunks, int count)
    {
        if (_count != 0) throw new InvalidOperationException("instruction maps already in use");
        _chunks = chunks;
        _count = count;
    }
}
