using Checker.MemcheckTool.Heap;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>The heap's free space bookkeeping: neighbours merge, the smallest fitting range serves, alignment carves.</summary>
public class FreeRangesTests
{
    [Fact]
    public void AdjacentRangesMergeWhicheverOrderTheyComeIn()
    {
        var free = new FreeRanges();
        free.Add(0x1000, 0x100);
        free.Add(0x1200, 0x100);
        Assert.Equal((0x1000UL, 0x1300UL), free.Add(0x1100, 0x100));
        Assert.Equal(1, free.Count);
        Assert.Equal(0x300UL, free.Bytes);
        Assert.Equal([(0x1000UL, 0x1300UL)], free.Ranges);
    }

    [Fact]
    public void TheSmallestRangeThatFitsServesAndItsRestStaysFree()
    {
        var free = new FreeRanges();
        free.Add(0x10000, 0x4000);
        free.Add(0x20000, 0x800);
        free.Add(0x30000, 0x1000);
        Assert.True(free.TryTake(redzone: 64, body: 0x7d0, alignment: 16, out ulong start, out ulong user));
        Assert.Equal((0x30000UL, 0x30040UL), (start, user));   // 0x850 bytes: the 0x800 range is too small
        Assert.Equal([(0x10000UL, 0x14000UL), (0x20000UL, 0x20800UL), (0x30850UL, 0x31000UL)], free.Ranges);
        Assert.False(free.TryTake(64, 0x4000, 16, out _, out _));
    }

    [Fact]
    public void AlignedRequestsLeaveTheGapBeforeThemFree()
    {
        var free = new FreeRanges();
        free.Add(0x10010, 0x3000);
        Assert.True(free.TryTake(redzone: 16, body: 0x100, alignment: 0x1000, out ulong start, out ulong user));
        Assert.Equal(0x11000UL, user);
        Assert.Equal(user - 16, start);
        Assert.Equal([(0x10010UL, 0x10ff0UL), (0x11110UL, 0x13010UL)], free.Ranges);
        Assert.True(free.TryTakeEndingAt(0x13010, out ulong tail));
        Assert.Equal(0x11110UL, tail);
    }
}
