using System.Runtime.InteropServices;
using Checker.Engine.CodeCache;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// The indirect-branch table's one-word slots (entry - rol(pc, 16)): within a slot the lookup's two
/// checks hit for the slot's own pc only, empty slots for no target at all, and a fill keeps the
/// word it displaces in the victim table.
/// </summary>
public unsafe class IndirectBranchTableTests : IDisposable
{
    private readonly void* _memory = NativeMemory.AlignedAlloc((nuint)IndirectBranchTable.ByteSize + 0x10000, 0x10000);
    private readonly IndirectBranchTable _table;

    public IndirectBranchTableTests() => _table = new IndirectBranchTable((ulong)_memory + 0x10000);

    public void Dispose() => NativeMemory.AlignedFree(_memory);

    /// <summary>A pc with the given slot, its bits 16..63 from <paramref name="high"/>.</summary>
    private static ulong InSlot(ulong high, int slot)
    {
        ulong pc = high & ~0xffffUL;
        return pc | (((ulong)slot - (pc >> 16)) & 0xffff);
    }

    // Targets of one slot that differ from pc where the sum could come near an entry: a 4 GB step,
    // the next or previous 64 KB with the low bits compensating, bits 47 and 48..63 set.
    private static IEnumerable<ulong> Neighbours(ulong pc, Random random)
    {
        int slot = IndirectBranchTable.SlotOf(pc);
        foreach (long step in new long[] { 1L << 32, -(1L << 32), 1L << 16, -(1L << 16), 1L << 47, 1L << 48, 0x1234L << 48, long.MinValue, 3L << 32 })
            yield return InSlot(unchecked(pc + (ulong)step), slot);
        for (int i = 0; i < 64; i++)
            yield return InSlot((ulong)random.NextInt64() & ((1UL << 47) - 1), slot);
        for (int i = 0; i < 16; i++)
            yield return InSlot((ulong)random.NextInt64() << 1, slot);
        yield return pc | 1UL << 48;
        yield return pc | 1UL << 63;
        yield return pc ^ 1UL << 47;
    }

    [Fact]
    public void ALookupHitsTheSlotsOwnPcOnlyAndGetsItsEntry()
    {
        var random = new Random(12);
        for (int i = 0; i < 2000; i++)
        {
            ulong pc = (ulong)random.NextInt64(0x10000, 1L << 47);
            ulong entry = (ulong)random.NextInt64(0x7000_0000, 0x7ff0_0000);
            ulong word = IndirectBranchTable.Word(pc, entry);
            foreach (bool flagFree in new[] { false, true })
            {
                Assert.True(IndirectBranchTable.Hits(word, pc, flagFree, out ulong found));
                Assert.Equal(entry, found);
                foreach (ulong other in Neighbours(pc, random))
                    if (other != pc)
                        Assert.False(IndirectBranchTable.Hits(word, other, flagFree, out _), $"0x{other:x} hit the slot of 0x{pc:x}");
            }
        }
    }

    [Fact]
    public void AnEmptySlotHitsNoTarget()
    {
        var random = new Random(34);
        foreach (int slot in new[] { 0, 1, 0x7000, 0xfffe, 0xffff, random.Next(0x10000), random.Next(0x10000) })
        {
            ulong word = _table.Read(slot);
            Assert.Equal(IndirectBranchTable.Empty(slot), word);
            // The only targets whose probe could have a zero high half (Empty's remarks), bits
            // 16..47 near -w_hi, and others of the slot.
            uint a0 = unchecked((uint)-(int)(word >> 32));
            var targets = new List<ulong>();
            for (int d = -70000; d <= 70000; d++)
            {
                uint a = unchecked(a0 + (uint)d);
                targets.Add((ulong)a << 16 | ((ulong)slot - a) & 0xffff);
            }
            targets.AddRange(Neighbours(targets[70000], random));
            foreach (ulong target in targets)
            {
                Assert.Equal(slot, IndirectBranchTable.SlotOf(target));
                Assert.False(IndirectBranchTable.Hits(word, target, flagFree: true, out _), $"0x{target:x} hit empty slot {slot}");
                Assert.False(IndirectBranchTable.Hits(word, target, flagFree: false, out _), $"0x{target:x} hit empty slot {slot}");
            }
        }
    }

    [Fact]
    public void AFillKeepsTheDisplacedWordInTheVictimTableAndAFlushDropsBoth()
    {
        const ulong a = 0x4010_0000, entryA = 0x7010_0000, entryB = 0x7020_0000;
        ulong b = InSlot(0x5555_0000, IndirectBranchTable.SlotOf(a));
        int slot = IndirectBranchTable.SlotOf(a);
        ulong empty = _table.Read(slot);
        Assert.Equal(empty, _table.ReadVictim(slot));

        _table.Insert(a, entryA);
        Assert.Equal(IndirectBranchTable.Word(a, entryA), _table.Read(slot));
        Assert.Equal(empty, _table.ReadVictim(slot));   // an empty word is not kept

        _table.Insert(b, entryB);
        Assert.Equal(IndirectBranchTable.Word(b, entryB), _table.Read(slot));
        Assert.Equal(IndirectBranchTable.Word(a, entryA), _table.ReadVictim(slot));

        _table.Insert(b, entryB);   // a refill of the same word keeps the victim
        Assert.Equal(IndirectBranchTable.Word(a, entryA), _table.ReadVictim(slot));

        _table.Remove(a, entryA);
        _table.Remove(b, entryB);
        Assert.Equal(empty, _table.Read(slot));
        Assert.Equal(empty, _table.ReadVictim(slot));
    }

    [Fact]
    public void ANewTableIsEmptyInEverySlotAsClearLeavesIt()
    {
        for (int slot = 0; slot < IndirectBranchTable.SlotCount; slot++)
        {
            Assert.Equal(IndirectBranchTable.Empty(slot), _table.Read(slot));
            Assert.Equal(IndirectBranchTable.Empty(slot), _table.ReadVictim(slot));
        }
        _table.Insert(0x40_1234, 0x7000_1000);
        _table.Clear();
        Assert.Equal(IndirectBranchTable.Empty(IndirectBranchTable.SlotOf(0x40_1234)), _table.Read(IndirectBranchTable.SlotOf(0x40_1234)));
    }
}
