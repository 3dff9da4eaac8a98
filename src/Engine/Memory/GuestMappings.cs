namespace Checker.Engine.Memory;

/// <summary>
/// The guest's own view of its address space: which page ranges it has mapped and with which
/// protection (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4). Kept from what the engine sees of every
/// way the guest gets memory: the loader's images, the stack, brk, the heap arena, and the
/// guest's mmap/munmap/mprotect/mremap calls. The host's own mappings (the runtime, the code
/// cache, the shadow) are never here, so "is this pc executable guest code" is a lookup, not a
/// read of /proc/self/maps, and a jump into memcheck's own code is the guest's SIGSEGV.
/// </summary>
/// <remarks>
/// Disjoint ranges in a balanced tree ordered by start: every operation is O(log n) plus the
/// ranges it touches, so a program with tens of thousands of mappings pays nothing per mmap for
/// the ones it does not touch (a sorted scan made 20,000 mmaps take 40 s).
/// </remarks>
public sealed class GuestMappings
{
    public const int Read = 1, Write = 2, Exec = 4;
    private const ulong PageMask = 4095;

    private readonly record struct Range(ulong Start, ulong End, int Prot);

    private sealed class ByStart : IComparer<Range>
    {
        public int Compare(Range a, Range b) => a.Start.CompareTo(b.Start);
    }

    private readonly SortedSet<Range> _ranges = new(new ByStart());
    // The same ranges as an array, for lookups (every translation asks where its code ends): a
    // binary search that allocates nothing. A SortedSet view counts its elements when made, so a
    // lookup through one visited every range below the address and allocated; with the GC it
    // caused, that was half of translating a large program. Dropped by every change, made again
    // by the next lookup.
    private Range[]? _sorted;
    private readonly Lock _lock = new();
    // The bytes of every range, kept as they change (a program's address-space limit is checked at each mapping).
    private ulong _bytes;

    /// <summary>A new mapping over [start, start+length): replaces whatever was there.</summary>
    public void Map(ulong start, ulong length, int prot)
    {
        (ulong s, ulong e) = Pages(start, length);
        if (e <= s) return;
        lock (_lock)
        {
            Cut(s, e);
            _ranges.Add(new Range(s, e, prot));
            _bytes += e - s;
            _sorted = null;
        }
    }

    /// <summary>The bytes of all the guest's mappings (PROT_NONE reservations too, as RLIMIT_AS counts them).</summary>
    public ulong MappedBytes
    {
        get { lock (_lock) return _bytes; }
    }

    /// <summary>The mapped bytes of [start, start+length): what a mapping placed there would replace.</summary>
    public ulong MappedBytesIn(ulong start, ulong length)
    {
        (ulong s, ulong e) = Pages(start, length);
        lock (_lock) return Overlapping(s, e).Aggregate(0UL, (sum, r) => sum + Math.Min(r.End, e) - Math.Max(r.Start, s));
    }

    public void Unmap(ulong start, ulong length)
    {
        (ulong s, ulong e) = Pages(start, length);
        lock (_lock) Cut(s, e);
    }

    /// <summary>mprotect: changes the protection of the mapped pages of the range (holes stay holes).</summary>
    public void Protect(ulong start, ulong length, int prot)
    {
        (ulong s, ulong e) = Pages(start, length);
        lock (_lock)
        {
            var mapped = Overlapping(s, e).Select(r => new Range(Math.Max(r.Start, s), Math.Min(r.End, e), prot)).ToList();
            Cut(s, e);
            foreach (Range r in mapped)
            {
                _ranges.Add(r);
                _bytes += r.End - r.Start;
            }
            _sorted = null;
        }
    }

    /// <summary>mremap: the pages of [oldStart, oldStart+oldLength) now live at newStart, newLength long.</summary>
    public void Move(ulong oldStart, ulong oldLength, ulong newStart, ulong newLength)
    {
        int prot = ProtectionAt(oldStart) ?? Read | Write;
        Unmap(oldStart, oldLength);
        Map(newStart, newLength, prot);
    }

    /// <summary>The recorded range that contains <paramref name="address"/>, if any.</summary>
    public (ulong Start, ulong End)? RangeAt(ulong address)
    {
        lock (_lock) return Lookup(address) is Range r ? (r.Start, r.End) : null;
    }

    /// <summary>The protection of the page holding <paramref name="address"/>, or null when the guest has nothing mapped there.</summary>
    public int? ProtectionAt(ulong address)
    {
        lock (_lock) return Lookup(address) is Range r ? r.Prot : null;
    }

    /// <summary>How many bytes from <paramref name="address"/> on are executable guest memory (0: none).</summary>
    public ulong ExecutableBytesFrom(ulong address)
    {
        lock (_lock)
        {
            ulong at = address;
            while (Lookup(at) is Range r && (r.Prot & Exec) != 0) at = r.End;
            return at - address;
        }
    }

    /// <summary>Whether any page of [start, end) is mapped.</summary>
    public bool AnyMapped(ulong start, ulong end)
    {
        lock (_lock) return Overlapping(start, end).Any();
    }

    /// <summary>Every range, in address order (for reports, the allocator's full scan, and tests).</summary>
    public IReadOnlyList<(ulong Start, ulong End, int Prot)> Ranges
    {
        get { lock (_lock) return _ranges.Select(r => (r.Start, r.End, r.Prot)).ToList(); }
    }

    private static (ulong Start, ulong End) Pages(ulong start, ulong length)
    {
        ulong end = start + length < start ? ulong.MaxValue & ~PageMask : (start + length + PageMask) & ~PageMask;
        return (start & ~PageMask, end);
    }

    /// <summary>The range holding <paramref name="address"/>, by binary search in the array of ranges.</summary>
    private Range? Lookup(ulong address)
    {
        Range[] sorted = _sorted ??= [.. _ranges];
        int low = 0, high = sorted.Length - 1, floor = -1;
        while (low <= high)
        {
            int middle = (int)((uint)(low + high) >> 1);
            if (sorted[middle].Start <= address)
            {
                floor = middle;
                low = middle + 1;
            }
            else high = middle - 1;
        }
        return floor >= 0 && address < sorted[floor].End ? sorted[floor] : null;
    }

    /// <summary>The range holding <paramref name="address"/>: the one with the greatest start at or below it (in the tree, while it changes).</summary>
    private Range? Containing(ulong address)
    {
        // Max of a view is a walk down the tree (its Count would visit every element of it).
        Range r = _ranges.GetViewBetween(new Range(0, 0, 0), new Range(address, 0, 0)).Max;
        return address < r.End ? r : null;
    }

    /// <summary>Ranges that share a byte with [start, end), in address order.</summary>
    private List<Range> Overlapping(ulong start, ulong end)
    {
        var found = new List<Range>();
        if (end <= start) return found;
        if (Containing(start) is Range first) found.Add(first);
        if (start + 1 <= end - 1)
            foreach (Range r in _ranges.GetViewBetween(new Range(start + 1, 0, 0), new Range(end - 1, 0, 0))) found.Add(r);
        return found;
    }

    /// <summary>Removes [start, end) from every range, keeping the pieces outside it.</summary>
    private void Cut(ulong start, ulong end)
    {
        _sorted = null;
        foreach (Range r in Overlapping(start, end))
        {
            _ranges.Remove(r);
            _bytes -= Math.Min(r.End, end) - Math.Max(r.Start, start);
            if (r.Start < start) _ranges.Add(r with { End = start });
            if (r.End > end) _ranges.Add(r with { Start = end });
        }
    }
}
