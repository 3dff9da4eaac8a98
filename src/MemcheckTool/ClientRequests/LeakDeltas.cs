using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// The loss records of the previous requested leak check, to show only what grew, changed or is new
/// (Valgrind's leak_check deltas). A record is an allocation site (its interned stack) and kind,
/// with its bytes (own and indirect) and blocks. Also counts what a scan found for COUNT_LEAKS.
/// </summary>
internal sealed class LeakDeltas
{
    private Dictionary<(ulong[] Site, bool Possible), (ulong Bytes, ulong Blocks)> _previous = new(new SiteComparer());

    /// <summary>The blocks of the records <paramref name="delta"/> shows; the found records become the previous ones.</summary>
    public IReadOnlyList<LeakedBlock> Select(IReadOnlyList<LeakedBlock> leaks, LeakDelta delta)
    {
        var records = new Dictionary<(ulong[] Site, bool Possible), (ulong Bytes, ulong Blocks)>(new SiteComparer());
        foreach (LeakedBlock leak in leaks)
        {
            var key = (leak.Chunk.AllocStack, leak.Possible);
            (ulong bytes, ulong blocks) = records.GetValueOrDefault(key);
            records[key] = (bytes + leak.Chunk.Size + leak.IndirectBytes, blocks + 1);
        }
        Dictionary<(ulong[] Site, bool Possible), (ulong Bytes, ulong Blocks)> previous = _previous;
        _previous = records;
        bool Shown((ulong[] Site, bool Possible) key)
        {
            (ulong bytes, ulong blocks) now = records[key];
            bool existed = previous.TryGetValue(key, out (ulong Bytes, ulong Blocks) before);
            return delta switch
            {
                LeakDelta.New => !existed,
                LeakDelta.Increased => !existed || now.bytes > before.Bytes || now.blocks > before.Blocks,
                LeakDelta.Changed => !existed || now != before,
                _ => true,
            };
        }
        return delta == LeakDelta.Any ? leaks : leaks.Where(l => Shown((l.Chunk.AllocStack, l.Possible))).ToList();
    }

    /// <summary>What a scan of <paramref name="scanned"/> blocks found, as Valgrind's leak summary counts it.</summary>
    public static LeakCounts Count(IReadOnlyList<LeakedBlock> leaks, (ulong Bytes, ulong Blocks) scanned)
    {
        ulong leakedBytes = 0, leakedBlocks = 0, dubiousBytes = 0, dubiousBlocks = 0;
        foreach (LeakedBlock leak in leaks)
        {
            if (leak.Possible)
            {
                dubiousBytes += leak.Chunk.Size;
                dubiousBlocks++;
                continue;
            }
            leakedBytes += leak.Chunk.Size + leak.IndirectBytes;
            leakedBlocks += 1 + (ulong)leak.IndirectBlocks;
        }
        ulong lostBytes = leakedBytes + dubiousBytes, lostBlocks = leakedBlocks + dubiousBlocks;
        return new LeakCounts(leakedBytes, dubiousBytes, scanned.Bytes > lostBytes ? scanned.Bytes - lostBytes : 0,
            leakedBlocks, dubiousBlocks, scanned.Blocks > lostBlocks ? scanned.Blocks - lostBlocks : 0);
    }

    private sealed class SiteComparer : IEqualityComparer<(ulong[] Site, bool Possible)>
    {
        public bool Equals((ulong[] Site, bool Possible) a, (ulong[] Site, bool Possible) b) => ReferenceEquals(a.Site, b.Site) && a.Possible == b.Possible;
        public int GetHashCode((ulong[] Site, bool Possible) x) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(x.Site), x.Possible);
    }
}
