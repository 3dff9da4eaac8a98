namespace Checker.Engine.CodeCache;

/// <summary>
/// The in-cache hash table the inlined indirect-branch lookups read: 2^16 slots indexed by
/// (target + (target >> 16)) mod 2^16, computed flag-free with one borrowed register (rorx, lea,
/// movzx): the low 16 bits alone made hot targets 64 KB apart evict each other on every call and
/// return.
/// <para>
/// Each slot is one 8-byte word that holds both the key and the fragment entry:
/// <c>entry - rol(pc, 16)</c> (mod 2^64). A lookup adds <c>rol(target, 16)</c> and gets the entry
/// back exactly when target == pc; see <see cref="Emission.IndirectBranchEmitter"/> for why the two
/// checks it then makes (the sum is below 2^31, resp. 2^32, and the target's bits 48..63 are zero)
/// admit no other target of the same slot. One word is what keeps updates safe against threads
/// reading concurrently (a single aligned store; a key and an entry in two words could be read
/// half old, half new), and it spares the lookup the load of the key from the fragment's header
/// in the code cache, which sat on every lookup's dependency chain (~8-10% of sqlite's and
/// python's samples).
/// </para>
/// <para>
/// Empty slots hold a word no target hits (<see cref="Empty"/>), so a miss, even to an address
/// inside the cache, is always the dispatcher's, with the target.
/// </para>
/// <para>
/// Behind the table lies its victim table, of the same slots and words: an insert moves the word
/// it displaces there, and a lookup that misses probes it in the shared miss routine before
/// leaving for the dispatcher. Two hot targets of one slot (sqlite: 145K misses of 9K fragments,
/// each a round trip through the dispatcher) then both stay reachable from the cache.
/// </para>
/// </summary>
public sealed unsafe class IndirectBranchTable
{
    public const int SlotCount = 1 << 16;
    /// <summary>The table and its victim table behind it.</summary>
    public const ulong ByteSize = 2 * SlotCount * 8;

    private readonly ulong* _slots;
    private readonly ulong* _victims;

    public IndirectBranchTable(ulong tableAddress, int mode = 0)
    {
        _slots = (ulong*)tableAddress;
        _victims = _slots + SlotCount;
        Mode = mode;
        Address = tableAddress;
        FillEmpty(_slots);
        FillEmpty(_victims);
    }

    public ulong Address { get; }
    public ulong VictimAddress => Address + SlotCount * 8;
    /// <summary>The translation mode whose fragments the table holds.</summary>
    public int Mode { get; }

    // The slot must pin down the pc's low 16 bits (given bits 16..31): the word's exact-hit argument
    // (see Word) needs two pcs of one slot to differ only at bit 16 and above, which rol 16 moves out
    // of the probe's range. A denser index (pc >> 2, 4 bytes of code a slot, tried for sqlite's
    // cache misses on this table) let pcs 1-3 bytes apart share a slot and hit each other's entries.
    public static int SlotOf(ulong applicationPc) => (int)((applicationPc + (applicationPc >> 16)) & 0xffff);

    private static ulong RotateLeft16(ulong value) => (value << 16) | (value >> 48);

    /// <summary>The slot word of <paramref name="applicationPc"/> mapped to <paramref name="fragmentEntry"/>.</summary>
    public static ulong Word(ulong applicationPc, ulong fragmentEntry) => unchecked(fragmentEntry - RotateLeft16(applicationPc));

    /// <summary>What a lookup computes from a slot's word and its target: the entry when the word is the target's.</summary>
    public static ulong Probe(ulong word, ulong target) => unchecked(word + RotateLeft16(target));

    /// <summary>
    /// What the inlined lookup decides (<see cref="Emission.IndirectBranchEmitter"/>): a hit, with the
    /// entry, when the target's bits 48..63 are zero and the probe is below 2^31 (at ret and indirect
    /// call, add + cmp/ja) or 2^32 (at jmp, flag-free: lea + rorx/jecxz).
    /// </summary>
    public static bool Hits(ulong word, ulong target, bool flagFree, out ulong entry)
    {
        entry = Probe(word, target);
        return target >> 48 == 0 && entry <= (flagFree ? 0xffff_ffffUL : 0x7fff_ffffUL);
    }

    public ulong Read(int slot) => Volatile.Read(ref _slots[slot]);
    public ulong ReadVictim(int slot) => Volatile.Read(ref _victims[slot]);

    /// <summary>Maps the pc to the entry; the word it displaces (another pc's) goes to the victim slot.</summary>
    public void Insert(ulong applicationPc, ulong fragmentEntry)
    {
        int slot = SlotOf(applicationPc);
        ulong word = Word(applicationPc, fragmentEntry), old = _slots[slot];
        if (old != word && old != Empty(slot)) Volatile.Write(ref _victims[slot], old);
        Volatile.Write(ref _slots[slot], word);
    }

    /// <summary>Drops the words of a fragment that is being flushed.</summary>
    public void Remove(ulong applicationPc, ulong fragmentEntry)
    {
        int slot = SlotOf(applicationPc);
        ulong word = Word(applicationPc, fragmentEntry);
        if (_slots[slot] == word) Volatile.Write(ref _slots[slot], Empty(slot));
        if (_victims[slot] == word) Volatile.Write(ref _victims[slot], Empty(slot));
    }

    public void Clear()
    {
        for (int i = 0; i < SlotCount; i++)
        {
            Volatile.Write(ref _slots[i], Empty(i));
            Volatile.Write(ref _victims[i], Empty(i));
        }
    }

    /// <summary>
    /// A new table's slots made empty, four at a time: nothing reads it yet, so no store needs to be
    /// a single 8-byte one (<see cref="Clear"/>'s must). One word per slot made startup pay ~1 ms per table.
    /// </summary>
    private static void FillEmpty(ulong* slots)
    {
        // Empty(i) = (~i & 0xffff) << 32 | 0x10000, since -(i + 1) == ~i.
        var index = System.Runtime.Intrinsics.Vector256.Create(0UL, 1, 2, 3);
        var step = System.Runtime.Intrinsics.Vector256.Create(4UL);
        var low = System.Runtime.Intrinsics.Vector256.Create(0xffffUL);
        var tag = System.Runtime.Intrinsics.Vector256.Create(0x1_0000UL);
        for (int i = 0; i < SlotCount; i += 4)
        {
            System.Runtime.Intrinsics.Vector256.Store(((~index & low) << 32) | tag, slots + i);
            index += step;
        }
    }

    /// <summary>
    /// The word of an empty slot, which no target hits. A target with bits 48..63 zero is
    /// <c>a*2^16 + b</c> (a: bits 16..47, b: bits 0..15) and lies in the slot when
    /// <c>b = slot - a (mod 2^16)</c>; the probe <c>w + a*2^32 + b*2^16</c> is below 2^32 only when its
    /// high half <c>w_hi + a + carry</c> is 0 (mod 2^32), carry being that of <c>w_lo + b*2^16</c>. With
    /// <c>w_hi = -(slot + 1)</c> (mod 2^16) and <c>w_lo = 2^16</c>: carry 0 needs <c>a = -w_hi</c>, so
    /// <c>b = 65535</c>, whose sum carries; carry 1 needs <c>b = 0</c>, whose sum does not.
    /// </summary>
    public static ulong Empty(int slot) => (ulong)((-(slot + 1)) & 0xffff) << 32 | 0x1_0000;
}
