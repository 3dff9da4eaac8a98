using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>The pure lane arithmetic, checked exhaustively against per-lane loops.</summary>
public class ShadowBitsTests
{
    private static readonly ShadowState[] States = Enum.GetValues<ShadowState>();

    [Fact]
    public void EncodingIsTheDocumentedBitPatterns()
    {
        Assert.Equal(0b00, (int)ShadowState.Defined);
        Assert.Equal(0b01, (int)ShadowState.Undefined);
        Assert.Equal(0b10, (int)ShadowState.BitLevel);
        Assert.Equal(0b11, (int)ShadowState.Unaddressable);
        Assert.Equal(4, States.Length);
    }

    [Theory]
    [InlineData(ShadowState.Defined, 0x00)]
    [InlineData(ShadowState.Undefined, 0x55)]
    [InlineData(ShadowState.BitLevel, 0xAA)]
    [InlineData(ShadowState.Unaddressable, 0xFF)]
    public void PatternRepeatsTheStateInAllFourLanes(ShadowState state, int expected) =>
        Assert.Equal(expected, ShadowBits.Pattern(state));

    [Fact]
    public void PackAndUnpackRoundTripEveryByte()
    {
        for (int b = 0; b < 256; b++)
        {
            var lanes = new ShadowState[4];
            for (int lane = 0; lane < 4; lane++)
            {
                lanes[lane] = ShadowBits.Unpack((byte)b, lane);
                Assert.Equal((b >> (2 * lane)) & 3, (int)lanes[lane]);
            }
            Assert.Equal(b, ShadowBits.Pack(lanes[0], lanes[1], lanes[2], lanes[3]));
        }
    }

    [Fact]
    public void LaneOfAddressIsItsLowTwoBits()
    {
        Assert.Equal(0x1234UL, ShadowBits.ShadowOffset(0x48D0));
        Assert.Equal(0x1234UL, ShadowBits.ShadowOffset(0x48D3));
        for (ulong a = 0x7fff_0000_0000; a < 0x7fff_0000_0010; a++)
            Assert.Equal((int)(a % 4), ShadowBits.Lane(a));
    }

    [Fact]
    public void LaneMaskCoversExactlyTheLanesAsked()
    {
        for (int first = 0; first <= 4; first++)
            for (int count = 0; count <= 4 - first; count++)
            {
                int expected = 0;
                for (int lane = first; lane < first + count; lane++) expected |= 3 << (2 * lane);
                Assert.Equal(expected, ShadowBits.LaneMask(first, count));
            }
        Assert.Equal(0xFF, ShadowBits.LaneMask(0, 4));
        Assert.Equal(0xC0, ShadowBits.LaneMask(3, 1));
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(5, 0)]
    [InlineData(0, 5)]
    [InlineData(1, 4)]
    [InlineData(3, 2)]
    [InlineData(2, -1)]
    public void LaneMaskRejectsLanesOutsideTheByte(int first, int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ShadowBits.LaneMask(first, count));

    [Theory]
    [InlineData(-1)]
    [InlineData(4)]
    public void UnpackRejectsLanesOutsideTheByte(int lane) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ShadowBits.Unpack(0, lane));

    [Fact]
    public void FillChangesOnlyTheLanesInRange()
    {
        for (int b = 0; b < 256; b++)
            foreach (ShadowState state in States)
                for (int first = 0; first <= 4; first++)
                    for (int count = 0; count <= 4 - first; count++)
                    {
                        byte result = ShadowBits.Fill((byte)b, first, count, state);
                        for (int lane = 0; lane < 4; lane++)
                        {
                            ShadowState expected = lane >= first && lane < first + count ? state : ShadowBits.Unpack((byte)b, lane);
                            Assert.Equal(expected, ShadowBits.Unpack(result, lane));
                        }
                    }
    }

    [Fact]
    public void MergeTakesMaskedBitsFromTheValue()
    {
        Assert.Equal(0b1100_0011, ShadowBits.Merge(0b0000_0011, 0b1111_0000, 0b1100_0000));
        Assert.Equal(0x5A, ShadowBits.Merge(0x50, 0xAA, 0x0F));
    }

    [Fact]
    public void FirstLaneNotFindsTheLowestDifferingLane()
    {
        for (int b = 0; b < 256; b++)
            foreach (ShadowState expected in States)
                for (int first = 0; first <= 4; first++)
                    for (int count = 0; count <= 4 - first; count++)
                    {
                        int reference = -1;
                        for (int lane = first; lane < first + count && reference < 0; lane++)
                            if (ShadowBits.Unpack((byte)b, lane) != expected) reference = lane;
                        Assert.Equal(reference, ShadowBits.FirstLaneNot((byte)b, first, count, expected));
                    }
    }
}
