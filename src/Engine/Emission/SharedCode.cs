using System.Buffers.Binary;

namespace Checker.Engine.Emission;

/// <summary>
/// Out-of-line code that many sites would otherwise each carry a copy of (the propagating mode's
/// slot stores that describe an instruction's shape to a shared routine): one copy per distinct
/// body, followed by a jump to its routine, in a pool carved from the code region's sparse data before any
/// fragment (so within rel32 reach of them all). Sites jump to it with their return point already
/// in gs:[LinkReturn]. When the pool is full <see cref="GetOrAdd"/> says so and the site emits its
/// own copy. Translation only (under the cache lock).
/// </summary>
public sealed unsafe class SharedCode
{
    private readonly ulong _pool;
    private readonly int _size;
    private int _used;
    private readonly Dictionary<ulong, ulong> _byHash = [];

    public SharedCode(CodeCache.CodeRegion region, int size)
    {
        // With the sparse data at the region's top, on small pages: only the used prefix is touched,
        // and a pool among the routines spread a small program's first code over one more 2 MB page
        // (each first touch of one zeroes it whole: ~2 ms on this VM, against ~10 us a 4 KB page).
        _pool = region.AllocateSparseData((ulong)size);
        _size = size;
    }

    /// <summary>Bytes of the pool in use.</summary>
    public int Used => _used;

    /// <summary>
    /// The address of <paramref name="body"/> (position-independent code) followed by <c>jmp
    /// <paramref name="target"/></c>, placed on first use; 0 when the pool has no room for it.
    /// </summary>
    public ulong GetOrAdd(ReadOnlySpan<byte> body, ulong target)
    {
        ulong hash = Hash(body, target);
        if (_byHash.TryGetValue(hash, out ulong found) && Holds(found, body, target)) return found;
        int length = body.Length + 5;
        int rounded = (length + 15) & ~15;
        if (_used + rounded > _size) return 0;
        ulong at = _pool + (ulong)_used;
        Span<byte> bytes = length <= 1024 ? stackalloc byte[length] : new byte[length];
        body.CopyTo(bytes);
        bytes[body.Length] = 0xE9;
        BinaryPrimitives.WriteInt32LittleEndian(bytes[(body.Length + 1)..], Rel32.Displacement(at + (ulong)length, target));
        CodeCache.CodeRegion.Write(at, bytes);
        _used += rounded;
        _byHash[hash] = at;   // a colliding body (never seen) only loses its sharing
        return at;
    }

    /// <summary>What a snapshot holds of the pool: its used bytes and where each body went.</summary>
    public sealed record Snapshot(byte[] Bytes, (ulong Hash, ulong At)[] Placed);

    /// <summary>The pool's used bytes and index, for persisted translations (their code jumps here).</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(_used);
        writer.Write(new ReadOnlySpan<byte>((void*)_pool, _used));
        writer.Write(_byHash.Count);
        foreach ((ulong hash, ulong at) in _byHash)
        {
            writer.Write(hash);
            writer.Write(at);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote, checked against this pool (nothing taken into use yet).</summary>
    public Snapshot Read(BinaryReader reader)
    {
        int used = reader.ReadInt32();
        if (used < 0 || used > _size) throw new InvalidDataException("shared code: used bytes");
        byte[] bytes = reader.ReadBytes(used);
        if (bytes.Length != used) throw new EndOfStreamException();
        int count = reader.ReadInt32();
        if (count < 0 || count > used) throw new InvalidDataException("shared code: entries");
        var placed = new (ulong, ulong)[count];
        for (int i = 0; i < count; i++)
        {
            placed[i] = (reader.ReadUInt64(), reader.ReadUInt64());
            if (placed[i].Item2 < _pool || placed[i].Item2 >= _pool + (ulong)used) throw new InvalidDataException("shared code: entry outside the pool");
        }
        return new Snapshot(bytes, placed);
    }

    /// <summary>Puts a snapshot's bodies back where its code expects them (before any use of the pool).</summary>
    public void Restore(Snapshot snapshot)
    {
        if (_used != 0) throw new InvalidOperationException("the shared code pool is in use already");
        CodeCache.CodeRegion.Write(_pool, snapshot.Bytes);
        _used = snapshot.Bytes.Length;
        foreach ((ulong hash, ulong at) in snapshot.Placed) _byHash[hash] = at;
    }

    private static bool Holds(ulong at, ReadOnlySpan<byte> body, ulong target)
    {
        var placed = new ReadOnlySpan<byte>((void*)at, body.Length + 5);
        return placed[..body.Length].SequenceEqual(body) && placed[body.Length] == 0xE9
            && BinaryPrimitives.ReadInt32LittleEndian(placed[(body.Length + 1)..]) == Rel32.Displacement(at + (ulong)placed.Length, target);
    }

    private static ulong Hash(ReadOnlySpan<byte> body, ulong target)
    {
        ulong h = 14695981039346656037UL ^ target;
        foreach (byte b in body) h = (h ^ b) * 1099511628211UL;
        return h ^ (ulong)body.Length << 56;
    }
}
