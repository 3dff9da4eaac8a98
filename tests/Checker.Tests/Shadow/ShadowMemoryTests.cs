using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>
/// Get, Set, IsAll and FirstNot on a real reservation: the layout contract generated code relies
/// on, every state transition, every alignment, page crossings, input validation.
/// </summary>
// Each ShadowMemory reserves 32 TiB of the 128 TiB user space: the classes that make one share a
// collection so xunit runs them one at a time.
[Collection("Shadow memory")]
public unsafe class ShadowMemoryTests
{
    private static readonly ShadowState[] States = Enum.GetValues<ShadowState>();

    // A high, 16 KiB-aligned address: the start of a 4 KiB shadow page.
    private const ulong High = 0x6a5c_3d10_0000;

    public static TheoryData<ShadowState, ShadowState> Transitions()
    {
        var data = new TheoryData<ShadowState, ShadowState>();
        foreach (ShadowState from in States)
            foreach (ShadowState to in States)
                data.Add(from, to);
        return data;
    }

    [Fact]
    public void FreshShadowIsDefinedEverywhere()
    {
        using var shadow = new ShadowMemory();
        foreach (ulong a in new ulong[] { 0, 1, 0x40_0000, High + 3, ShadowMemory.AddressLimit - 1 })
            Assert.Equal(ShadowState.Defined, shadow.Get(a));
        Assert.True(shadow.IsAll(0x7ff0_0000_0000, 1 << 20, ShadowState.Defined));
    }

    [Fact]
    public void LayoutIsBasePlusAddressShiftedByTwoWithTwoBitsPerByte()
    {
        using var shadow = new ShadowMemory();
        Assert.Equal(0UL, shadow.Base % 4096);
        Assert.Equal(shadow.Base, shadow.ShadowAddressOf(0));
        Assert.Equal(shadow.Base + (High >> 2), shadow.ShadowAddressOf(High + 3));
        Assert.Equal(shadow.Base + ShadowMemory.ReservationSize - 1, shadow.ShadowAddressOf(ShadowMemory.AddressLimit - 1));

        // What generated code will do: load the byte at Base + (a >> 2), take bits 2*(a & 3).
        shadow.Set(High + 0, 1, ShadowState.Unaddressable);
        shadow.Set(High + 1, 1, ShadowState.Defined);
        shadow.Set(High + 2, 1, ShadowState.BitLevel);
        shadow.Set(High + 3, 1, ShadowState.Undefined);
        byte raw = *(byte*)shadow.ShadowAddressOf(High);
        Assert.Equal(ShadowBits.Pack(ShadowState.Unaddressable, ShadowState.Defined, ShadowState.BitLevel, ShadowState.Undefined), raw);
        Assert.Equal(0b01_10_00_11, raw);
        for (ulong a = High; a < High + 4; a++)
            Assert.Equal(shadow.Get(a), (ShadowState)((*(byte*)(shadow.Base + (a >> 2)) >> (int)(2 * (a & 3))) & 3));

        // Aligned 8 bytes all defined <=> their 16-bit shadow word is zero (the fast path's test).
        shadow.Set(High + 64, 8, ShadowState.Defined);
        Assert.Equal(0, *(ushort*)shadow.ShadowAddressOf(High + 64));
        shadow.Set(High + 71, 1, ShadowState.Undefined);
        Assert.NotEqual(0, *(ushort*)shadow.ShadowAddressOf(High + 64));
    }

    [Theory]
    [MemberData(nameof(Transitions))]
    public void EveryStateBecomesEveryOtherState(ShadowState from, ShadowState to)
    {
        using var shadow = new ShadowMemory();
        ShadowState guard = States.First(s => s != from && s != to);

        // A short misaligned range, and one long enough for Defined to release whole shadow pages.
        foreach ((ulong start, ulong length) in new[] { (High + 3, 37UL), (High + 0x10_0000 + 1, 4 * ShadowMemory.ReleaseThreshold + 0xC006) })
        {
            shadow.Set(start - 5, length + 10, guard);
            shadow.Set(start, length, from);
            Assert.True(shadow.IsAll(start, length, from));
            shadow.Set(start, length, to);
            Assert.True(shadow.IsAll(start, length, to), $"{from} -> {to} over {length} bytes: {shadow.FirstNot(start, length, to)}");
            Assert.True(shadow.IsAll(start - 5, 5, guard), "bytes below the range changed");
            Assert.True(shadow.IsAll(start + length, 5, guard), "bytes above the range changed");
        }
    }

    [Fact]
    public void SetIsExactForEveryStartLaneAndShortLength()
    {
        using var shadow = new ShadowMemory();
        var model = new ShadowModel(High - 16, 48);
        foreach (ShadowState state in States)
            for (ulong offset = 0; offset < 4; offset++)
                for (ulong length = 0; length <= 9; length++)
                {
                    Background(model, seed: (int)(offset * 10 + length));
                    model.WriteTo(shadow);
                    model.AssertMatches(shadow, "background");
                    shadow.Set(High + offset, length, state);
                    model.Set(High + offset, length, state);
                    model.AssertMatches(shadow, $"Set(+{offset}, {length}, {state})");
                }
    }

    [Fact]
    public void FirstNotFindsTheExactFirstByteForEveryStartLaneAndShortLength()
    {
        using var shadow = new ShadowMemory();
        foreach (ShadowState expected in States)
            foreach (ShadowState bad in States.Where(s => s != expected))
                for (ulong offset = 0; offset < 4; offset++)
                    for (ulong length = 0; length <= 9; length++)
                    {
                        ulong start = High + offset;
                        shadow.Set(High - 16, 48, expected);
                        // Wrong states just outside the range must not be reported.
                        shadow.Set(start - 1, 1, bad);
                        shadow.Set(start + length, 1, bad);
                        Assert.Null(shadow.FirstNot(start, length, expected));
                        Assert.True(shadow.IsAll(start, length, expected));

                        for (ulong at = 0; at < length; at++)
                        {
                            shadow.Set(start, length, expected);
                            shadow.Set(start + at, 1, bad);
                            if (at + 2 < length) shadow.Set(start + at + 2, 1, bad);
                            Assert.Equal((start + at, bad), shadow.FirstNot(start, length, expected));
                            Assert.False(shadow.IsAll(start, length, expected));
                        }
                    }
    }

    [Fact]
    public void FirstNotFindsOneByteInAMegabyte()
    {
        using var shadow = new ShadowMemory();
        const ulong Length = 1 << 20;
        ulong start = High + 1;
        foreach (ulong at in new ulong[] { 0, 1, 2, 3, 4, 5, 63, 64, 4095, 4096, 16383, 16384, 16385, 777_777, Length - 5, Length - 2, Length - 1 })
        {
            shadow.Set(start, Length, ShadowState.Undefined);
            shadow.Set(start + at, 1, ShadowState.BitLevel);
            Assert.Equal((start + at, ShadowState.BitLevel), shadow.FirstNot(start, Length, ShadowState.Undefined));
            Assert.Null(shadow.FirstNot(start, at, ShadowState.Undefined));
            Assert.Null(shadow.FirstNot(start + at + 1, Length - at - 1, ShadowState.Undefined));
        }
    }

    [Fact]
    public void RangesCrossingApplicationAndShadowPagesAreExact()
    {
        using var shadow = new ShadowMemory();
        // High is 16 KiB aligned: High + 16 KiB * k starts a 4 KiB shadow page, High + 4 KiB * k an
        // application page. The window spans two shadow pages either side of the middle boundary.
        ulong middle = High + 0x8000;
        var model = new ShadowModel(middle - 0x8000, 0x10000);
        var ranges = new (ulong Start, ulong Length)[]
        {
            (middle - 1, 2), (middle - 3, 8), (middle - 4, 4), (middle - 4, 5), (middle - 5, 9), (middle + 1, 3),
            (middle - 0x1000 - 2, 5), (middle - 0x3000 + 3, 0x2000), (middle - 0x4001, 0x4002),
            (middle - 0x4000, 0x8000), (middle - 0x7fff, 0xfffe), (middle - 0x5003, 0x9007),
        };
        int round = 0;
        foreach (ShadowState state in States.Concat(States.Reverse()))
            foreach ((ulong start, ulong length) in ranges)
            {
                shadow.Set(start, length, state);
                model.Set(start, length, state);
                ShadowState other = (ShadowState)(((int)state + 1 + round++ % 3) % 4);
                shadow.Set(start + length / 2, 1, other);
                model.Set(start + length / 2, 1, other);
                Assert.Equal(model.FirstNot(start, length, state), shadow.FirstNot(start, length, state));
            }
        model.AssertMatches(shadow, "after page-crossing ranges");
    }

    [Fact]
    public void TheTopOfTheAddressSpaceHasShadow()
    {
        using var shadow = new ShadowMemory();
        const ulong Top = ShadowMemory.AddressLimit;
        shadow.Set(Top - 7, 7, ShadowState.Unaddressable);
        shadow.Set(Top - 1, 1, ShadowState.Undefined);
        Assert.Equal(ShadowState.Defined, shadow.Get(Top - 8));
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(Top - 2));
        Assert.Equal(ShadowState.Undefined, shadow.Get(Top - 1));
        Assert.Equal((Top - 1, ShadowState.Undefined), shadow.FirstNot(Top - 7, 7, ShadowState.Unaddressable));
    }

    [Fact]
    public void SettingTheWholeAddressSpaceDefinedIsCheapAndClearsEverything()
    {
        using var shadow = new ShadowMemory();
        shadow.Set(High + 3, 100_000, ShadowState.Unaddressable);
        shadow.Set(0x1000, 5, ShadowState.Undefined);
        // One madvise over the reservation (no timing asserted: machines here are shared and noisy).
        shadow.Set(0, ShadowMemory.AddressLimit, ShadowState.Defined);
        Assert.True(shadow.IsAll(High, 200_000, ShadowState.Defined));
        Assert.True(shadow.IsAll(0, 0x2000, ShadowState.Defined));
    }

    [Fact]
    public void AddressesAtOrAbove2To47AreRefused()
    {
        using var shadow = new ShadowMemory();
        const ulong Limit = ShadowMemory.AddressLimit;
        Assert.Equal("address", Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Get(Limit)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Get(ulong.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Get(0xffff_ffff_ff60_0000)); // vsyscall
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.ShadowAddressOf(Limit));
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Set(Limit, 0, ShadowState.Defined));
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Set(Limit - 1, 2, ShadowState.Defined)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Set(0, Limit + 1, ShadowState.Defined));
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Set(16, ulong.MaxValue - 8, ShadowState.Defined)); // wraps past 2^64
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.IsAll(Limit - 4, 5, ShadowState.Defined));
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.FirstNot(ulong.MaxValue, 1, ShadowState.Defined));
        Assert.Equal("from", Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Copy(Limit, 0, 1)).ParamName);
        Assert.Equal("to", Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Copy(0, Limit, 1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Copy(0, Limit - 3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Copy(8, 0, ulong.MaxValue));
        Assert.Equal("state", Assert.Throws<ArgumentOutOfRangeException>(() => shadow.Set(0, 1, (ShadowState)4)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => shadow.FirstNot(0, 1, (ShadowState)0xff));

        // Exactly up to the limit is fine, and nothing refused changed anything.
        shadow.Set(Limit - 1, 1, ShadowState.Undefined);
        shadow.Set(0, Limit, ShadowState.Defined);
        Assert.True(shadow.IsAll(Limit - 4, 4, ShadowState.Defined));
        Assert.True(shadow.IsAll(0, 0, ShadowState.Unaddressable));
        Assert.Null(shadow.FirstNot(Limit - 1, 0, ShadowState.Undefined));
    }

    [Fact]
    public void DisposedShadowRefusesUse()
    {
        var shadow = new ShadowMemory();
        shadow.Set(High, 4, ShadowState.Undefined);
        shadow.Dispose();
        shadow.Dispose();
        Assert.Throws<ObjectDisposedException>(() => shadow.Base);
        Assert.Throws<ObjectDisposedException>(() => shadow.Get(High));
        Assert.Throws<ObjectDisposedException>(() => shadow.Set(High, 1, ShadowState.Defined));
        Assert.Throws<ObjectDisposedException>(() => shadow.Copy(High, High + 8, 1));
        Assert.Throws<ObjectDisposedException>(() => shadow.FirstNot(High, 1, ShadowState.Defined));
    }

    // A reproducible mix of all four states.
    private static void Background(ShadowModel model, int seed)
    {
        var random = new Random(seed);
        for (ulong a = model.Start; a < model.End; a++) model[a] = (ShadowState)random.Next(4);
    }
}
