using Checker.Engine.CodeCache;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>The fragment index by pc: open addressing with backward-shift deletion, checked against a dictionary.</summary>
public class PcIndexTests
{
    [Fact]
    public void AgreesWithADictionaryThroughAddsReplacementsAndRemovals()
    {
        var index = new PcIndex();
        var expected = new Dictionary<ulong, int>();
        var random = new Random(12);
        for (int step = 0; step < 200_000; step++)
        {
            // Clustered, aligned pcs as code has them, with pc 0 among them.
            ulong pc = (ulong)random.Next(0, 60_000) * 16 + (random.Next(4) == 0 ? 0x7f00_0000_0000UL : 0x40_0000UL) * (ulong)random.Next(0, 2);
            if (random.Next(3) == 0)
                Assert.Equal(expected.Remove(pc), index.Remove(pc));
            else
            {
                Assert.Equal(!expected.ContainsKey(pc), index.Set(pc, step));
                expected[pc] = step;
            }
            if (step % 1000 == 0)
                foreach ((ulong key, int number) in expected)
                {
                    Assert.True(index.TryGet(key, out int found));
                    Assert.Equal(number, found);
                }
        }
        for (ulong pc = 0; pc < 60_000 * 16; pc += 16)
            Assert.Equal(expected.ContainsKey(pc), index.TryGet(pc, out _));
    }
}
