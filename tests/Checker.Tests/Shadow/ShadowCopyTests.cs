using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>Copy moves states byte for byte with memmove semantics, for every lane combination.</summary>
[Collection("Shadow memory")]
public class ShadowCopyTests
{
    private const ulong High = 0x5123_4560_0000;

    [Fact]
    public void ShortCopiesAreExactForEveryLanePairOverlapAndLength()
    {
        using var shadow = new ShadowMemory();
        var model = new ShadowModel(High - 64, 192);
        int seed = 0;
        for (ulong fromLane = 0; fromLane < 4; fromLane++)
            for (long delta = -12; delta <= 12; delta++)
                for (ulong length = 0; length <= 40; length++)
                {
                    ulong from = High + fromLane, to = (ulong)((long)from + delta);
                    RandomBackground(model, seed++);
                    model.WriteTo(shadow);
                    shadow.Copy(from, to, length);
                    model.Copy(from, to, length);
                    model.AssertMatches(shadow, $"Copy(+{fromLane}, {delta:+0;-0}, {length})");
                }
    }

    [Theory]
    // Overlapping in both directions, same lane and different lanes, over several staging chunks.
    [InlineData(0, 1)]
    [InlineData(1, -1)]
    [InlineData(2, 3)]
    [InlineData(3, -3)]
    [InlineData(0, 4)]
    [InlineData(1, -4)]
    [InlineData(2, 4096)]
    [InlineData(3, -16385)]
    [InlineData(1, 0x10001)]
    [InlineData(0, -0x10002)]
    [InlineData(3, 0x2_0000 + 2)]
    // Disjoint.
    [InlineData(1, 0x3_0003)]
    [InlineData(2, -0x3_0000)]
    public void LongCopiesAreExact(int fromLane, int delta)
    {
        using var shadow = new ShadowMemory();
        const int Length = 200_003;
        var model = new ShadowModel(High - 0x4_0000, 0xB_0000);
        ulong from = High + (ulong)fromLane, to = (ulong)((long)from + delta);
        RandomRuns(model, fromLane * 1000 + delta);
        model.WriteTo(shadow);
        shadow.Copy(from, to, Length);
        model.Copy(from, to, Length);
        model.AssertMatches(shadow, $"Copy(+{fromLane}, {delta:+0;-0}, {Length})");
    }

    [Fact]
    public void CopiesAtTheTopOfTheAddressSpaceStayInside()
    {
        using var shadow = new ShadowMemory();
        const ulong Top = ShadowMemory.AddressLimit;
        var model = new ShadowModel(Top - 256, 256);
        int seed = 100;
        foreach ((ulong from, ulong to, ulong length) in new[]
        {
            (Top - 41, Top - 37, 37UL), (Top - 37, Top - 41, 37UL), (Top - 200, Top - 199, 199UL),
            (Top - 199, Top - 200, 199UL), (Top - 100, Top - 4, 4UL), (Top - 1, Top - 102, 1UL), (Top - 250, Top - 48, 48UL),
        })
        {
            RandomBackground(model, seed++);
            model.WriteTo(shadow);
            shadow.Copy(from, to, length);
            model.Copy(from, to, length);
            model.AssertMatches(shadow, $"Copy(top-{Top - from}, top-{Top - to}, {length})");
        }
    }

    [Fact]
    public void CopyToItselfOrOfNothingChangesNothing()
    {
        using var shadow = new ShadowMemory();
        var model = new ShadowModel(High, 64);
        RandomBackground(model, 7);
        model.WriteTo(shadow);
        shadow.Copy(High + 3, High + 3, 50);
        shadow.Copy(High + 3, High + 10, 0);
        model.AssertMatches(shadow, "no-op copies");
    }

    // Independent states per byte: the worst case for lane handling.
    private static void RandomBackground(ShadowModel model, int seed)
    {
        var random = new Random(seed);
        for (ulong a = model.Start; a < model.End; a++) model[a] = (ShadowState)random.Next(4);
    }

    // Runs of 1-64 bytes: what real shadow looks like, and faster to write.
    private static void RandomRuns(ShadowModel model, int seed)
    {
        var random = new Random(seed);
        for (ulong a = model.Start; a < model.End;)
        {
            ulong n = Math.Min((ulong)random.Next(1, 65), model.End - a);
            model.Set(a, n, (ShadowState)random.Next(4));
            a += n;
        }
    }
}
