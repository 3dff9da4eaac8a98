namespace Checker.Engine.CodeCache;

/// <summary>
/// The in-cache hash table the inlined indirect-branch lookups read: 2^16 slots indexed by
/// (target + (target >> 16)) mod 2^16, each holding a fragment entry address. The hash is computed
/// flag-free with one borrowed register (rorx, lea, movzx): the low 16 bits alone made hot targets
/// 64 KB apart evict each other on every call and return. A fragment's negated
/// application pc sits in the 8 bytes before its entry, so one 8-byte slot is all a lookup needs:
/// updates are single aligned stores, safe against threads reading concurrently. Empty slots point
/// at a sentinel whose header matches no pc. Collisions simply overwrite (the miss path refills).
/// </summary>
public sealed unsafe class IndirectBranchTable
{
    public const int SlotCount = 1 << 16;
    public const ulong ByteSize = SlotCount * 8;

    private readonly ulong* _slots;
    private readonly ulong _sentinelEntry;

    public IndirectBranchTable(ulong tableAddress, ulong sentinelEntry)
    {
        _slots = (ulong*)tableAddress;
        _sentinelEntry = sentinelEntry;
        Address = tableAddress;
        Clear();
    }

    public ulong Address { get; }

    public static int SlotOf(ulong applicationPc) => (int)((applicationPc + (applicationPc >> 16)) & 0xffff);

    public void Insert(ulong applicationPc, ulong fragmentEntry) =>
        Volatile.Write(ref _slots[SlotOf(applicationPc)], fragmentEntry);

    /// <summary>Drops the slot of a fragment that is being flushed.</summary>
    public void Remove(ulong applicationPc, ulong fragmentEntry)
    {
        ref ulong slot = ref _slots[SlotOf(applicationPc)];
        if (slot == fragmentEntry) Volatile.Write(ref slot, _sentinelEntry);
    }

    public void Clear()
    {
        for (int i = 0; i < SlotCount; i++) Volatile.Write(ref _slots[i], _sentinelEntry);
    }
}
