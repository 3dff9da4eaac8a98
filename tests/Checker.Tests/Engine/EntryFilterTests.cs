using Checker.Engine.CodeCache;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>The translator's filter of fragment entries: no false negatives, and a clear bit beside each set one.</summary>
public class EntryFilterTests
{
    [Fact]
    public void AnAddedPcIsAlwaysPossible_ItsNeighboursAreNotUnlessAliased()
    {
        var filter = new EntryFilter();
        var random = new Random(7);
        var added = new HashSet<ulong>();
        for (int i = 0; i < 10_000; i++)
        {
            ulong pc = 0x5555_0000_0000UL + (ulong)random.Next(0, 1 << 22) * 4;
            filter.Add(pc);
            added.Add(pc & 0xFF_FFFF);
        }
        foreach (ulong low in added)
        {
            Assert.True(filter.MayContain(0x5555_0000_0000UL + low));
            // The same bit 16 MB away: an alias the exact index must settle.
            Assert.True(filter.MayContain(0x5555_0100_0000UL + low));
            if (!added.Contains((low + 1) & 0xFF_FFFF)) Assert.False(filter.MayContain(0x5555_0000_0000UL + low + 1));
        }
        Assert.False(new EntryFilter().MayContain(0x40_1000));
    }
}
