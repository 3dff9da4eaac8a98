using System.Numerics;

namespace Checker.Shadow;

/// <summary>
/// Pure bit arithmetic on single shadow bytes. A shadow byte holds four 2-bit lanes: lane <c>i</c>
/// (bits <c>2i..2i+1</c>) is the <see cref="ShadowState"/> of application byte <c>4k + i</c>, so the
/// state of byte <c>a</c> is <c>(shadow[a &gt;&gt; 2] &gt;&gt; 2*(a &amp; 3)) &amp; 3</c>. Kept apart
/// from <see cref="ShadowMemory"/> so the masks can be tested without native memory.
/// </summary>
public static class ShadowBits
{
    /// <summary>Application bytes per shadow byte.</summary>
    public const int LanesPerByte = 4;

    /// <summary>Shadow bits per application byte.</summary>
    public const int BitsPerLane = 2;

    /// <summary>The shadow byte of application address <c>a</c> is at offset <c>a &gt;&gt; AddressShift</c>.</summary>
    public const int AddressShift = 2;

    /// <summary>Offset of the shadow byte holding <paramref name="address"/>'s state.</summary>
    public static ulong ShadowOffset(ulong address) => address >> AddressShift;

    /// <summary>Lane of <paramref name="address"/> within its shadow byte (0-3).</summary>
    public static int Lane(ulong address) => (int)(address & (LanesPerByte - 1));

    /// <summary>A shadow byte with all four lanes in <paramref name="state"/> (0x00, 0x55, 0xAA, 0xFF).</summary>
    public static byte Pattern(ShadowState state) => (byte)((byte)state * 0x55);

    /// <summary>The state in lane <paramref name="lane"/> of <paramref name="shadow"/>.</summary>
    public static ShadowState Unpack(byte shadow, int lane)
    {
        CheckLane(lane);
        return (ShadowState)((shadow >> (BitsPerLane * lane)) & 3);
    }

    /// <summary>A shadow byte from the states of four consecutive application bytes.</summary>
    public static byte Pack(ShadowState lane0, ShadowState lane1, ShadowState lane2, ShadowState lane3) =>
        (byte)(((byte)lane0 & 3) | (((byte)lane1 & 3) << 2) | (((byte)lane2 & 3) << 4) | (((byte)lane3 & 3) << 6));

    /// <summary>The bits of lanes [<paramref name="firstLane"/>, <paramref name="firstLane"/> + <paramref name="count"/>).</summary>
    public static byte LaneMask(int firstLane, int count)
    {
        if ((uint)firstLane > LanesPerByte) throw new ArgumentOutOfRangeException(nameof(firstLane));
        if ((uint)count > (uint)(LanesPerByte - firstLane)) throw new ArgumentOutOfRangeException(nameof(count));
        return (byte)(((1 << (BitsPerLane * count)) - 1) << (BitsPerLane * firstLane));
    }

    /// <summary><paramref name="shadow"/> with the bits under <paramref name="mask"/> taken from <paramref name="value"/>.</summary>
    public static byte Merge(byte shadow, byte value, byte mask) => (byte)((shadow & ~mask) | (value & mask));

    /// <summary><paramref name="shadow"/> with <paramref name="count"/> lanes from <paramref name="firstLane"/> set to <paramref name="state"/>.</summary>
    public static byte Fill(byte shadow, int firstLane, int count, ShadowState state) =>
        Merge(shadow, Pattern(state), LaneMask(firstLane, count));

    /// <summary>
    /// The first lane in [<paramref name="firstLane"/>, <paramref name="firstLane"/> + <paramref name="count"/>)
    /// whose state is not <paramref name="expected"/>, or -1.
    /// </summary>
    public static int FirstLaneNot(byte shadow, int firstLane, int count, ShadowState expected)
    {
        int differing = (shadow ^ Pattern(expected)) & LaneMask(firstLane, count);
        return differing == 0 ? -1 : BitOperations.TrailingZeroCount(differing) / BitsPerLane;
    }

    private static void CheckLane(int lane)
    {
        if ((uint)lane >= LanesPerByte) throw new ArgumentOutOfRangeException(nameof(lane), lane, "a lane is 0-3");
    }
}
