namespace Checker.Engine.CodeCache;

/// <summary>
/// Where in the fragment list (numbers in cache-address order) the fragments whose entries lie in
/// each 4 KB page of the code region begin, so finding the fragment of a cache pc searches the few
/// fragments of one page, not the whole list. Every tool exit asks (the fragment it returns into):
/// a binary search over cc1plus's 130K entries was ~10 cache misses each time, ~0.9% of its run.
/// Pages are recorded as fragments are appended (entries only ascend: the region is a bump pointer),
/// in chunks of 1,024 pages (4 MB of region) made as the region's used part grows.
/// </summary>
internal sealed class EntryPages(ulong regionStart)
{
    private const int PageBits = 12, ChunkBits = 10;
    private readonly List<int[]> _chunks = [];
    // Pages [0, _recorded) have the number of the first fragment whose entry is at or above their start.
    private long _recorded;

    /// <summary>Fragment <paramref name="number"/>, the latest, has its entry at <paramref name="entry"/>.</summary>
    public void Append(int number, ulong entry)
    {
        long page = (long)((entry - regionStart) >> PageBits);
        for (; _recorded <= page; _recorded++)
        {
            int chunk = (int)(_recorded >> ChunkBits);
            while (_chunks.Count <= chunk) _chunks.Add(new int[1 << ChunkBits]);
            _chunks[chunk][_recorded & ((1 << ChunkBits) - 1)] = number;
        }
    }

    /// <summary>
    /// The numbers among which the last fragment with its entry at or below <paramref name="cachePc"/>
    /// lies (<paramref name="count"/> fragments in all; <paramref name="cachePc"/> at or above the first
    /// entry): from the last one before its page to the last one in it.
    /// </summary>
    public (int From, int To) Candidates(ulong cachePc, int count)
    {
        long page = (long)((cachePc - regionStart) >> PageBits);
        int first = FirstAtOrAbove(page, count), next = FirstAtOrAbove(page + 1, count);
        return (Math.Max(0, first - 1), next - 1);
    }

    private int FirstAtOrAbove(long page, int count) =>
        page < _recorded ? _chunks[(int)(page >> ChunkBits)][page & ((1 << ChunkBits) - 1)] : count;
}
