using Checker.Engine.CodeCache;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>The code region's page directory of fragments: its candidates always hold the last entry at or below a pc.</summary>
public class EntryPagesTests
{
    [Fact]
    public void TheCandidatesHoldTheLastEntryAtOrBelowEveryPc()
    {
        const ulong start = 0x7000_0000;
        var pages = new EntryPages(start);
        var entries = new List<ulong>();
        var random = new Random(3);
        ulong next = start + 0x10000;
        for (int n = 0; n < 5000; n++)
        {
            // Fragments of 16-1,000 bytes, now and then a gap of up to 3 MB (data carved between them).
            next += (ulong)random.Next(16, 1000) + (random.Next(50) == 0 ? (ulong)random.Next(0, 3 << 20) : 0);
            next = (next + 15) & ~15UL;
            pages.Append(n, next);
            entries.Add(next);
        }
        for (int probe = 0; probe < 20_000; probe++)
        {
            ulong pc = entries[0] + (ulong)(random.NextDouble() * (entries[^1] - entries[0] + 0x2000));
            int expected = entries.FindLastIndex(e => e <= pc);
            (int from, int to) = pages.Candidates(pc, entries.Count);
            Assert.InRange(expected, from, to);
            Assert.True(entries[from] <= pc, $"0x{pc:x}: the first candidate's entry 0x{entries[from]:x} is above it");
            Assert.True(to - from < 600, $"{to - from + 1} candidates");
        }
    }
}
