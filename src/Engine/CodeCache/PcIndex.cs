using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Checker.Engine.CodeCache;

/// <summary>
/// The mode-0 fragments by application pc, as fragment numbers (<see cref="Fragment.Number"/>) in
/// open-addressing tables of plain integers, split in 256 shards by a hash of the pc. The shards were
/// dictionaries of fragments: 28 bytes and a reference per entry, 6.8 MB on cc1plus's 130K fragments
/// (and arrays of references every collection scanned); these are 12 bytes a slot, about half of
/// them full, no references. A shard stays below the large-object threshold (cc1plus: 1,024 slots).
/// The shards' arrays and masks are kept side by side in small arrays that stay cached, so a slot's
/// address is known without touching its shard (<see cref="Prefetch"/>). Used under the cache lock.
/// </summary>
internal sealed class PcIndex
{
    private const int ShardBits = 8, Shards = 1 << ShardBits, InitialSlots = 16;
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;

    // Per shard: pc + 1 (0: an empty slot), the fragment's number, the slot mask, the entries.
    private readonly ulong[][] _keys = new ulong[Shards][];
    private readonly int[][] _numbers = new int[Shards][];
    private readonly int[] _masks = new int[Shards];
    private readonly int[] _counts = new int[Shards];

    public PcIndex()
    {
        for (int s = 0; s < Shards; s++)
        {
            _keys[s] = new ulong[InitialSlots];
            _numbers[s] = new int[InitialSlots];
            _masks[s] = InitialSlots - 1;
        }
    }

    // Fragment pcs are aligned and clustered: a multiplicative hash spreads them; its top bits pick
    // the shard, the bits below them the slot.
    private static ulong Hash(ulong pc) => pc * Multiplier;
    private static int ShardOf(ulong hash) => (int)(hash >> (64 - ShardBits));
    private static int Home(ulong hash, int mask) => (int)(hash >> 24) & mask;

    public bool TryGet(ulong pc, out int number)
    {
        ulong hash = Hash(pc);
        int s = ShardOf(hash), mask = _masks[s];
        ulong[] keys = _keys[s];
        for (int i = Home(hash, mask); keys[i] != 0; i = (i + 1) & mask)
            if (keys[i] == pc + 1)
            {
                number = _numbers[s][i];
                return true;
            }
        number = ExitStub.NoFragment;
        return false;
    }

    /// <summary>
    /// Starts loading the slots where <paramref name="pc"/> would go, touching nothing on the way: a
    /// translation begins with it and adds its fragment ~10 us later, and that add's probe into a
    /// cold shard was 0.6% of cc1plus's samples. A prefetch of a moved array's old address is harmless.
    /// </summary>
    public unsafe void Prefetch(ulong pc)
    {
        if (!Sse.IsSupported) return;
        ulong hash = Hash(pc);
        int s = ShardOf(hash), home = Home(hash, _masks[s]);
        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_keys[s]), home)));
        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_numbers[s]), home)));
    }

    /// <summary>Maps <paramref name="pc"/> to fragment <paramref name="number"/>; true when the pc was not in the index.</summary>
    public bool Set(ulong pc, int number)
    {
        ulong hash = Hash(pc);
        int s = ShardOf(hash);
        if ((_counts[s] + 1) * 3 > (_masks[s] + 1) * 2) Grow(s);
        ulong[] keys = _keys[s];
        int mask = _masks[s];
        int i = Home(hash, mask);
        for (; keys[i] != 0; i = (i + 1) & mask)
            if (keys[i] == pc + 1)
            {
                _numbers[s][i] = number;
                return false;
            }
        keys[i] = pc + 1;
        _numbers[s][i] = number;
        _counts[s]++;
        return true;
    }

    /// <summary>Takes <paramref name="pc"/> out; false when it was not in the index.</summary>
    public bool Remove(ulong pc)
    {
        ulong hash = Hash(pc);
        int s = ShardOf(hash), mask = _masks[s];
        ulong[] keys = _keys[s];
        int[] numbers = _numbers[s];
        int hole = Home(hash, mask);
        while (keys[hole] != pc + 1)
        {
            if (keys[hole] == 0) return false;
            hole = (hole + 1) & mask;
        }
        // Backward-shift deletion: every entry after the hole, up to an empty slot, that may live in the
        // hole (its home is not cyclically in (hole, j]) moves there, leaving its own slot the hole.
        for (int j = (hole + 1) & mask; keys[j] != 0; j = (j + 1) & mask)
        {
            int home = Home(Hash(keys[j] - 1), mask);
            bool stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (stays) continue;
            keys[hole] = keys[j];
            numbers[hole] = numbers[j];
            hole = j;
        }
        keys[hole] = 0;
        _counts[s]--;
        return true;
    }

    private void Grow(int s)
    {
        ulong[] oldKeys = _keys[s];
        int[] oldNumbers = _numbers[s];
        var keys = new ulong[oldKeys.Length * 2];
        var numbers = new int[oldKeys.Length * 2];
        int mask = keys.Length - 1;
        for (int k = 0; k < oldKeys.Length; k++)
        {
            if (oldKeys[k] == 0) continue;
            int i = Home(Hash(oldKeys[k] - 1), mask);
            while (keys[i] != 0) i = (i + 1) & mask;
            keys[i] = oldKeys[k];
            numbers[i] = oldNumbers[k];
        }
        (_keys[s], _numbers[s], _masks[s]) = (keys, numbers, mask);
    }
}
