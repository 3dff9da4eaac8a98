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
/// Empty slots hold the word of a trap pc of their own slot inside the table's own 64 KB of the
/// code cache (no guest code is ever there) mapped to <see cref="Emission.RuntimeRoutines.SentinelEntry"/>,
/// so only a jump to that very pc could hit one; it leaves for the dispatcher, which finds no
/// guest code there (the guest's SIGSEGV).
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
    private readonly ulong _sentinelEntry;
    private readonly ulong _trapBase;

    public IndirectBranchTable(ulong tableAddress, ulong sentinelEntry, int mode = 0)
    {
        _slots = (ulong*)tableAddress;
        _victims = _slots + SlotCount;
        Mode = mode;
        _sentinelEntry = sentinelEntry;
        _trapBase = tableAddress & ~0xffffUL;
        Address = tableAddress;
        Clear();
    }

    public ulong Address { get; }
    public ulong VictimAddress => Address + SlotCount * 8;
    /// <summary>The translation mode whose fragments the table holds.</summary>
    public int Mode { get; }

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

    /// <summary>The pc inside the table's 64 KB (never guest code) that hashes to <paramref name="slot"/>.</summary>
    public ulong TrapPc(int slot) => _trapBase + (((ulong)slot - (_trapBase >> 16)) & 0xffff);

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

    private ulong Empty(int slot) => Word(TrapPc(slot), _sentinelEntry);
}
