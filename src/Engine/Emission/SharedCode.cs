using System.Buffers.Binary;

namespace Checker.Engine.Emission;

/// <summary>
/// Out-of-line code that many sites would otherwise each carry a copy of (the propagating mode's
/// slot stores that describe an instruction's shape to a shared routine): one copy per distinct
/// body, followed by a jump to its routine, in a pool taken from the code region before any
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
        _pool = region.Allocate((ulong)size, 64);
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
