namespace Checker.Engine.Memory;

/// <summary>
/// The guest's own view of its address space: which page ranges it has mapped and with which
/// protection (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4). Kept from what the engine sees of every
/// way the guest gets memory: the loader's images, the stack, brk, the heap arena, and the
/// guest's mmap/munmap/mprotect/mremap calls. The host's own mappings (the runtime, the code
/// cache, the shadow) are never here, so "is this pc executable guest code" is a lookup, not a
/// read of /proc/self/maps, and a jump into memcheck's own code is the guest's SIGSEGV.
/// </summary>
public sealed class GuestMappings
{
    public const int Read = 1, Write = 2, Exec = 4;
    private const ulong PageMask = 4095;

    // Disjoint ranges by start: [start, end) with one protection each.
    private readonly SortedDictionary<ulong, (ulong End, int Prot)> _ranges = [];
    private readonly Lock _lock = new();

    /// <summary>A new mapping over [start, start+length): replaces whatever was there.</summary>
    public void Map(ulong start, ulong length, int prot)
    {
        (ulong s, ulong e) = Pages(start, length);
        if (e <= s) return;
        lock (_lock)
        {
            Cut(s, e);
            _ranges[s] = (e, prot);
        }
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
            var mapped = Overlapping(s, e).Select(r => (Math.Max(r.Start, s), Math.Min(r.End, e))).ToList();
            Cut(s, e);
            foreach ((ulong from, ulong to) in mapped) _ranges[from] = (to, prot);
        }
    }

    /// <summary>mremap: the pages of [oldStart, oldStart+oldLength) now live at newStart, newLength long.</summary>
    public void Move(ulong oldStart, ulong oldLength, ulong newStart, ulong newLength)
    {
        int prot = ProtectionAt(oldStart) ?? Read | Write;
        Unmap(oldStart, oldLength);
        Map(newStart, newLength, prot);
    }

    /// <summary>The protection of the page holding <paramref name="address"/>, or null when the guest has nothing mapped there.</summary>
    public int? ProtectionAt(ulong address)
    {
        lock (_lock)
        {
            foreach ((ulong start, ulong end, int prot) in Overlapping(address & ~PageMask, (address & ~PageMask) + 1))
                if (address >= start && address < end) return prot;
            return null;
        }
    }

    /// <summary>How many bytes from <paramref name="address"/> on are executable guest memory (0: none).</summary>
    public ulong ExecutableBytesFrom(ulong address)
    {
        lock (_lock)
        {
            ulong at = address;
            while (true)
            {
                var range = Overlapping(at, at + 1).FirstOrDefault();
                if (range.End == 0 || (range.Prot & Exec) == 0 || at < range.Start) break;
                at = range.End;
            }
            return at - address;
        }
    }

    /// <summary>Every range, in address order (for reports and tests).</summary>
    public IReadOnlyList<(ulong Start, ulong End, int Prot)> Ranges
    {
        get { lock (_lock) return _ranges.Select(r => (r.Key, r.Value.End, r.Value.Prot)).ToList(); }
    }

    private static (ulong Start, ulong End) Pages(ulong start, ulong length)
    {
        ulong end = start + length < start ? ulong.MaxValue & ~PageMask : (start + length + PageMask) & ~PageMask;
        return (start & ~PageMask, end);
    }

    private IEnumerable<(ulong Start, ulong End, int Prot)> Overlapping(ulong start, ulong end)
    {
        // Ranges are few (tens to a few thousand): a linear walk from the first candidate is enough.
        foreach (var (s, (e, prot)) in _ranges)
        {
            if (s >= end) yield break;
            if (e > start) yield return (s, e, prot);
        }
    }

    /// <summary>Removes [start, end) from every range, keeping the pieces outside it.</summary>
    private void Cut(ulong start, ulong end)
    {
        foreach ((ulong s, ulong e, int prot) in Overlapping(start, end).ToList())
        {
            _ranges.Remove(s);
            if (s < start) _ranges[s] = (start, prot);
            if (e > end) _ranges[end] = (e, prot);
        }
    }
}
