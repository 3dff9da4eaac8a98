namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Free space of the heap arena, coalesced: adjacent free ranges merge as they are added, so the
/// space of freed blocks serves later requests of any size (a program that frees a block and
/// mallocs one 32 KB larger, again and again, reuses the same few megabytes). Ranges are found by
/// their ends (for merging) and by size (best fit, lowest address first among equals). All
/// addresses and lengths are multiples of 16. Pure bookkeeping: no memory is touched.
/// </summary>
public sealed class FreeRanges
{
    private readonly Dictionary<ulong, ulong> _endByStart = new();
    private readonly Dictionary<ulong, ulong> _startByEnd = new();
    private readonly SortedSet<(ulong Length, ulong Start)> _bySize = new();

    /// <summary>Free bytes held.</summary>
    public ulong Bytes { get; private set; }

    /// <summary>How many separate ranges.</summary>
    public int Count => _bySize.Count;

    /// <summary>Adds [start, start + length), merged with free neighbours; returns the merged range.</summary>
    public (ulong Start, ulong End) Add(ulong start, ulong length)
    {
        ulong end = start + length;
        Bytes += length;
        if (_startByEnd.TryGetValue(start, out ulong before))
        {
            Remove(before, start, countBytes: false);
            start = before;
        }
        if (_endByStart.TryGetValue(end, out ulong after))
        {
            Remove(end, after, countBytes: false);
            end = after;
        }
        Insert(start, end);
        return (start, end);
    }

    /// <summary>
    /// Carves a block for <paramref name="body"/> bytes with <paramref name="redzone"/> bytes on each
    /// side, the user address (after the left redzone) aligned to <paramref name="alignment"/>, from
    /// the smallest range that holds it; what is left of the range stays free.
    /// </summary>
    public bool TryTake(ulong redzone, ulong body, ulong alignment, out ulong blockStart, out ulong user)
    {
        ulong need = redzone + body + redzone + (alignment > 16 ? alignment - 16 : 0);
        blockStart = user = 0;
        if (_bySize.Count == 0 || _bySize.Max.Length < need) return false;
        (ulong length, ulong start) = _bySize.GetViewBetween((need, 0), (ulong.MaxValue, ulong.MaxValue)).Min;
        ulong end = start + length;
        user = (start + redzone + alignment - 1) & ~(alignment - 1);
        blockStart = user - redzone;
        ulong blockEnd = user + body + redzone;
        Remove(start, end, countBytes: true);
        if (blockStart > start) Add(start, blockStart - start);
        if (end > blockEnd) Add(blockEnd, end - blockEnd);
        return true;
    }

    /// <summary>Takes the free range that ends exactly at <paramref name="end"/> (to give it back to the wilderness).</summary>
    public bool TryTakeEndingAt(ulong end, out ulong start)
    {
        if (!_startByEnd.TryGetValue(end, out start)) return false;
        Remove(start, end, countBytes: true);
        return true;
    }

    /// <summary>Every free range, in address order.</summary>
    public IEnumerable<(ulong Start, ulong End)> Ranges => _endByStart.OrderBy(r => r.Key).Select(r => (r.Key, r.Value)).ToList();

    /// <summary>Where the longest range's length is kept up to date (0: no range), for the native fast path; null: nowhere.</summary>
    internal unsafe ulong* LongestPublished { get; init; }

    private unsafe void Publish()
    {
        if (LongestPublished != null) *LongestPublished = _bySize.Count == 0 ? 0 : _bySize.Max.Length;
    }

    private void Insert(ulong start, ulong end)
    {
        _endByStart[start] = end;
        _startByEnd[end] = start;
        _bySize.Add((end - start, start));
        Publish();
    }

    private void Remove(ulong start, ulong end, bool countBytes)
    {
        _endByStart.Remove(start);
        _startByEnd.Remove(end);
        _bySize.Remove((end - start, start));
        if (countBytes) Bytes -= end - start;
        Publish();
    }
}
