using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>
/// Thousands of random Set and Copy operations (fixed seeds), checked against
/// <see cref="ShadowModel"/> byte for byte; FirstNot and IsAll are checked along the way.
/// </summary>
[Collection("Shadow memory")]
public class ShadowRandomizedTests
{
    [Theory]
    // 64 KiB windows: mostly short and medium ranges, many lane combinations.
    [InlineData(1, 64 * 1024, 20_000)]
    [InlineData(2, 64 * 1024, 20_000)]
    [InlineData(3, 64 * 1024, 20_000)]
    // 2 MiB: ranges long enough that Defined releases pages and copies take several chunks.
    [InlineData(4, 2 * 1024 * 1024, 1_500)]
    public void RandomOperationsMatchTheReferenceModel(int seed, int windowSize, int operations)
    {
        var random = new Random(seed);
        // A random high window at any alignment, below the 47-bit limit.
        ulong start = 0x1000_0000_0000 + (ulong)random.NextInt64(0x6000_0000_0000);
        using var shadow = new ShadowMemory();
        var model = new ShadowModel(start, windowSize);

        for (int i = 0; i < operations; i++)
        {
            (ulong a, ulong n) = RandomRange(random, model);
            switch (random.Next(8))
            {
                case < 4:
                    var state = (ShadowState)random.Next(4);
                    shadow.Set(a, n, state);
                    model.Set(a, n, state);
                    break;
                case < 7:
                    ulong to = start + (ulong)random.NextInt64((long)(model.Length - (int)n + 1));
                    // Half the copies overlap their source closely.
                    if (random.Next(2) == 0)
                        to = (ulong)Math.Clamp((long)a + random.Next(-9, 10), (long)start, (long)(model.End - n));
                    shadow.Copy(a, to, n);
                    model.Copy(a, to, n);
                    break;
                default:
                    var expected = (ShadowState)random.Next(4);
                    Assert.Equal(model.FirstNot(a, n, expected), shadow.FirstNot(a, n, expected));
                    Assert.Equal(model.FirstNot(a, n, expected) is null, shadow.IsAll(a, n, expected));
                    break;
            }
            if (i % 2000 == 1999) model.AssertMatches(shadow, $"seed {seed}, after operation {i}");
        }
        model.AssertMatches(shadow, $"seed {seed}, at the end");
    }

    private static (ulong Address, ulong Length) RandomRange(Random random, ShadowModel model)
    {
        int length = random.Next(4) switch
        {
            0 => random.Next(0, 10),
            1 => random.Next(0, 100),
            2 => random.Next(0, 5000),
            _ => random.Next(0, model.Length + 1),
        };
        ulong address = model.Start + (ulong)random.Next(model.Length - length + 1);
        return (address, (ulong)length);
    }
}
