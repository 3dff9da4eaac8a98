namespace Checker.Engine.CodeCache;

/// <summary>
/// The mode-0 fragments by application pc, as fragment numbers (<see cref="Fragment.Number"/>) in
/// open-addressing tables of plain integers, split in 256 shards by a hash of the pc. The shards were
/// dictionaries of fragments: 28 bytes and a reference per entry, 6.8 MB on cc1plus's 130K fragments
/// (and arrays of references every collection scanned); these are 12 bytes a slot, about half of
/// them full, no references. A shard stays below the large-object threshold (cc1plus: 1,024 slots).
/// Used under the cache lock.
/// </summary>
internal sealed class PcIndex
{
    private const int ShardBits = 8;
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;

    private sealed class Shard
    {
        // pc + 1 (0: an empty slot), and the fragment's number.
        public ulong[] Keys = new ulong[16];
        public int[] Numbers = new int[16];
        public int Count;
    }

    private readonly Shard[] _shards = Enumerable.Range(0, 1 << ShardBits).Select(_ => new Shard()).ToArray();

    // Fragment pcs are aligned and clustered: a multiplicative hash spreads them; its top bits pick
    // the shard, the bits below them the slot.
    private static ulong Hash(ulong pc) => pc * Multiplier;
    private Shard ShardOf(ulong hash) => _shards[(int)(hash >> (64 - ShardBits))];
    private static int Home(ulong hash, int mask) => (int)(hash >> 24) & mask;

    public bool TryGet(ulong pc, out int number)
    {
        ulong hash = Hash(pc);
        Shard shard = ShardOf(hash);
        ulong[] keys = shard.Keys;
        int mask = keys.Length - 1;
        for (int i = Home(hash, mask); keys[i] != 0; i = (i + 1) & mask)
            if (keys[i] == pc + 1)
            {
                number = shard.Numbers[i];
                return true;
            }
        number = ExitStub.NoFragment;
        return false;
    }

    /// <summary>Maps <paramref name="pc"/> to fragment <paramref name="number"/>; true when the pc was not in the index.</summary>
    public bool Set(ulong pc, int number)
    {
        ulong hash = Hash(pc);
        Shard shard = ShardOf(hash);
        if ((shard.Count + 1) * 3 > shard.Keys.Length * 2) Grow(shard);
        ulong[] keys = shard.Keys;
        int mask = keys.Length - 1;
        int i = Home(hash, mask);
        for (; keys[i] != 0; i = (i + 1) & mask)
            if (keys[i] == pc + 1)
            {
                shard.Numbers[i] = number;
                return false;
            }
        keys[i] = pc + 1;
        shard.Numbers[i] = number;
        shard.Count++;
        return true;
    }

    /// <summary>Takes <paramref name="pc"/> out; false when it was not in the index.</summary>
    public bool Remove(ulong pc)
    {
        ulong hash = Hash(pc);
        Shard shard = ShardOf(hash);
        ulong[] keys = shard.Keys;
        int[] numbers = shard.Numbers;
        int mask = keys.Length - 1;
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
        shard.Count--;
        return true;
    }

    private static void Grow(Shard shard)
    {
        ulong[] oldKeys = shard.Keys;
        int[] oldNumbers = shard.Numbers;
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
        (shard.Keys, shard.Numbers) = (keys, numbers);
    }
}
