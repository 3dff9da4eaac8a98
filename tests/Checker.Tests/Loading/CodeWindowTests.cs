using Checker.Engine.Memory;
using Xunit;

namespace Checker.Tests.Loading;

/// <summary>Placement in the code window: first fit around taken ranges, code in reach, data may run on.</summary>
public class CodeWindowTests
{
    private const ulong MB = 1 << 20, GB = 1UL << 30;

    private static CodeWindow Default() =>
        CodeWindow.Around(AddressSpaceLayout.CodeCacheStart, AddressSpaceLayout.CodeCacheStart + AddressSpaceLayout.CodeCacheSize);

    [Fact]
    public void AroundTheDefaultCache_StartsAtTheFloorAndEndsTwoGigabytesAboveTheCache()
    {
        CodeWindow window = Default();
        Assert.Equal(AddressSpaceLayout.GuestCodeWindowStart, window.Start);
        Assert.Equal(AddressSpaceLayout.GuestCodeWindowEnd, window.CodeEnd);
        Assert.Equal([(0x7000_0000UL, 0x7ff0_0000UL)], window.Taken);
    }

    [Fact]
    public void Candidates_AreLowestFirstAndAligned()
    {
        CodeWindow window = Default();
        Assert.Equal(0x1000_0000UL, window.Candidate(5000));
        window.Consume(0x1000_0000, 5000);
        Assert.Equal(0x1001_0000UL, window.Candidate(5000));
        Assert.Equal(0x1020_0000UL, window.Candidate(5000, alignment: 2 * MB));
    }

    [Fact]
    public void AnImageTooBigBelowTheCache_GoesAboveIt_WithOnlyItsCodeInReach()
    {
        CodeWindow window = Default();
        // 2 GB with 1 MB of code: below the cache there are only 1.75 GB.
        Assert.Equal(0x7ff0_0000UL, window.Candidate(2 * GB, codeLength: MB));
        // 9 GB runs far past the window's end: fine, its code is at the start.
        Assert.Equal(0x7ff0_0000UL, window.Candidate(9 * GB, codeLength: MB));
        // Its code at the end, 9 GB up: out of reach anywhere.
        Assert.Null(window.Candidate(9 * GB));
    }

    [Fact]
    public void AFixedExecutableInTheWindow_IsSkipped()
    {
        // A non-PIE with 1 GB of bss covers the window's floor (the interpreter used to collide with it).
        CodeWindow window = Default();
        window.Consume(0x40_0000, GB + 0x5000);
        Assert.Equal(0x4041_0000UL, window.Candidate(0x3_0000));
    }

    [Fact]
    public void ReleasedRanges_AreReused()
    {
        CodeWindow window = Default();
        window.Consume(0x1000_0000, 0x10_0000);
        window.Consume(0x1010_0000, 0x10_0000);
        window.Release(0x1000_0000, 0x10_0000);
        Assert.Equal(0x1000_0000UL, window.Candidate(0x10_0000));
        Assert.Equal(0x1020_0000UL, window.Candidate(0x10_0001));
        window.Release(0x1010_0000, 0x8_0000); // half of the second
        Assert.Equal([(0x1018_0000UL, 0x1020_0000UL), (0x7000_0000UL, 0x7ff0_0000UL)], window.Taken);
    }

    [Fact]
    public void OccupiedBySomethingUnknown_TakesWhatIsReallyThere()
    {
        CodeWindow window = Default();
        window.NoteOccupied(0x1000_0000, 64 * MB, [(0x1200_0000, 0x1201_0000), (0x5555_0000_0000, 0x5555_0001_0000)]);
        Assert.Equal(0x1000_0000UL, window.Candidate(32 * MB));
        Assert.Equal(0x1201_0000UL, window.Candidate(33 * MB));
        // Nothing found there (it went away meanwhile): the attempted range is taken, so the next try differs.
        window.NoteOccupied(0x1201_0000, MB, []);
        Assert.Equal(0x1211_0000UL, window.Candidate(33 * MB));
    }

    [Fact]
    public void AbsurdRequests_HaveNoCandidate()
    {
        CodeWindow window = Default();
        Assert.Null(window.Candidate(0));
        Assert.Null(window.Candidate(ulong.MaxValue));
        Assert.Null(window.Candidate(4096, alignment: 1UL << 63));
        window.Consume(ulong.MaxValue - 10, 100); // saturates, no wrap
        Assert.Equal(0x1000_0000UL, window.Candidate(4096));
    }
}
