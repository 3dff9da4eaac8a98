using Checker.Engine.Memory;
using Xunit;

namespace Checker.Tests.Memory;

/// <summary>The guest's view of its mappings: what it may execute, and where its next mmap goes.</summary>
public class GuestMappingsTests
{
    private const int R = GuestMappings.Read, W = GuestMappings.Write, X = GuestMappings.Exec;

    [Fact]
    public void MapUnmapProtect_SplitAndReplaceRangesAsTheKernelDoes()
    {
        var m = new GuestMappings();
        m.Map(0x10000, 0x4000, R | X);
        m.Map(0x12000, 0x1000, R | W);            // over the middle: splits
        Assert.Equal([(0x10000UL, 0x12000UL, R | X), (0x12000UL, 0x13000UL, R | W), (0x13000UL, 0x14000UL, R | X)], m.Ranges);
        m.Protect(0x11000, 0x10000, R);           // holes beyond 0x14000 stay holes
        Assert.Equal([(0x10000UL, 0x11000UL, R | X), (0x11000UL, 0x12000UL, R), (0x12000UL, 0x13000UL, R), (0x13000UL, 0x14000UL, R)], m.Ranges);
        Assert.Equal(R, m.ProtectionAt(0x13fff));
        Assert.Null(m.ProtectionAt(0x14000));
        m.Unmap(0x10800, 0x1000);                 // page-rounded: [0x10000, 0x12000)
        Assert.Null(m.ProtectionAt(0x10000));
        Assert.Null(m.ProtectionAt(0x11fff));
        Assert.Equal(R, m.ProtectionAt(0x12000));
    }

    [Fact]
    public void ExecutableBytes_RunOnAcrossAdjacentExecutableRangesAndStopAtTheFirstOtherPage()
    {
        var m = new GuestMappings();
        m.Map(0x400000, 0x1000, R | X);
        m.Map(0x401000, 0x1000, X);
        m.Map(0x402000, 0x1000, R);
        Assert.Equal(0x2000UL - 0x10, m.ExecutableBytesFrom(0x400010));
        Assert.Equal(0UL, m.ExecutableBytesFrom(0x402000));
        Assert.Equal(0UL, m.ExecutableBytesFrom(0x500000));
        m.Move(0x401000, 0x1000, 0x600000, 0x2000);
        Assert.Equal(0x1000UL, m.ExecutableBytesFrom(0x400000));
        Assert.Equal(0x2000UL, m.ExecutableBytesFrom(0x600000));
    }

    [Fact]
    public void ThousandsOfRanges_EachLookupFindsItsOwn()
    {
        var m = new GuestMappings();
        for (ulong i = 0; i < 20_000; i++) m.Map(0x1000_0000 + i * 0x2000, 0x1000, (int)(i % 2 == 0 ? R : R | X));
        for (ulong i = 0; i < 20_000; i += 997)
        {
            Assert.Equal(i % 2 == 0 ? R : R | X, m.ProtectionAt(0x1000_0000 + i * 0x2000 + 0x800));
            Assert.Null(m.ProtectionAt(0x1000_0000 + i * 0x2000 + 0x1000));
        }
        for (ulong i = 0; i < 20_000; i += 2) m.Unmap(0x1000_0000 + i * 0x2000, 0x1000);
        Assert.Equal(10_000, m.Ranges.Count);
    }

    [Fact]
    public void Allocator_TopDownBelowTheCeiling_AroundMappingsAndReservations()
    {
        var m = new GuestMappings();
        var a = new GuestAddressAllocator(m) { Ceiling = 0x30_0000_0000 };
        ulong first = a.FindFree(0x3000)!.Value;
        Assert.Equal(0x30_0000_0000UL - 0x3000, first);
        m.Map(first, 0x3000, R | W);
        ulong second = a.FindFree(0x1000)!.Value;
        Assert.Equal(first - 0x1000, second);
        m.Map(second, 0x1000, R | W);
        // A hole left above is found once placement below is taken.
        m.Unmap(first, 0x3000);
        a.Reserve(AddressSpaceLayout.GuestMmapFloor, second);
        Assert.Equal(0x30_0000_0000UL - 0x2000, a.FindFree(0x2000));
        // Nothing fits: null, never an address outside the region.
        Assert.Null(a.FindFree(0x10_0000_0000));
    }

    /// <summary>The running total RLIMIT_AS is checked against: every change keeps it equal to the ranges' sum.</summary>
    [Fact]
    public void MappedBytes_FollowsEveryChange()
    {
        var m = new GuestMappings();
        var random = new Random(12);
        for (int step = 0; step < 2000; step++)
        {
            ulong start = 0x10000 + (ulong)random.Next(0, 256) * 0x1000, length = (ulong)random.Next(1, 32) * 0x1000 - (ulong)random.Next(0, 2);
            switch (random.Next(4))
            {
                case 0 or 1: m.Map(start, length, R | W); break;
                case 2: m.Unmap(start, length); break;
                default: m.Protect(start, length, R); break;
            }
            ulong sum = m.Ranges.Aggregate(0UL, (total, r) => total + r.End - r.Start);
            Assert.Equal(sum, m.MappedBytes);
        }
        ulong inside = m.Ranges.Where(r => r.End > 0x20000 && r.Start < 0x40000)
            .Aggregate(0UL, (total, r) => total + Math.Min(r.End, 0x40000UL) - Math.Max(r.Start, 0x20000UL));
        Assert.Equal(inside, m.MappedBytesIn(0x20000, 0x20000));
    }
}
