namespace Checker.Engine.Memory;

/// <summary>
/// Hands out addresses for mappings that may hold code (see <see cref="AddressSpaceLayout"/>): the
/// lowest free place from <see cref="Start"/> up whose code part ends by <see cref="CodeEnd"/>, the
/// last address in rel32 reach of every byte of the code cache. Only the code has to be in reach;
/// an image's data may run on past <see cref="CodeEnd"/> (a 2 GB bss). The cache itself, the fixed
/// executable and every placed image are taken ranges; unmapped ones are given back. An image with
/// no place here still runs (the translator reaches far code and data through a scratch register),
/// just slower.
/// </summary>
public sealed class CodeWindow
{
    /// <summary>Mappings start on 64 KiB boundaries, as the kernel's ASLR granularity keeps them apart.</summary>
    public const ulong Alignment = 0x10000;

    /// <summary>rel32: a displacement reaches 2 GiB either way.</summary>
    private const ulong Rel32Reach = 0x8000_0000;

    // Sorted by start, disjoint, not adjacent.
    private readonly List<(ulong Start, ulong End)> _taken = [];

    public CodeWindow(ulong start, ulong codeEnd, ulong limit = AddressSpaceLayout.UserAddressLimit)
    {
        Start = start;
        CodeEnd = codeEnd;
        Limit = limit;
    }

    /// <summary>The window for a code cache at [<paramref name="cacheStart"/>, <paramref name="cacheEnd"/>), which it marks taken.</summary>
    public static CodeWindow Around(ulong cacheStart, ulong cacheEnd)
    {
        // Below the cache, reach ends 2 GiB under its end; the window never starts below its floor,
        // which keeps the first 256 MB for non-PIE executables (linked at 0x400000).
        ulong start = Math.Max(AddressSpaceLayout.GuestCodeWindowStart, cacheEnd > Rel32Reach ? cacheEnd - Rel32Reach : 0);
        var window = new CodeWindow(start, cacheStart + Rel32Reach - AddressSpaceLayout.CodeReachMargin);
        window.Consume(cacheStart, cacheEnd - cacheStart);
        return window;
    }

    public ulong Start { get; }

    /// <summary>Code placed here must end at or below this address.</summary>
    public ulong CodeEnd { get; }

    /// <summary>No mapping placed here ends above this address.</summary>
    public ulong Limit { get; }

    /// <summary>
    /// The lowest address for <paramref name="length"/> bytes, aligned to <paramref name="alignment"/>
    /// (a power of two), clear of every taken range, whose first <paramref name="codeLength"/> bytes
    /// (all of them when null) end by <see cref="CodeEnd"/>; null when there is none.
    /// </summary>
    public ulong? Candidate(ulong length, ulong alignment = Alignment, ulong? codeLength = null)
    {
        alignment = Math.Max(alignment, Alignment);
        ulong reach = Math.Min(codeLength ?? length, length);
        if (length == 0 || length > Limit) return null;

        // First fit: the gaps between taken ranges, lowest first, until code would end out of reach.
        bool TryFit(ulong from, ulong before, out ulong at, out bool outOfReach)
        {
            at = AlignUp(from, alignment);
            outOfReach = at == ulong.MaxValue || at > CodeEnd || reach > CodeEnd - at;
            return !outOfReach && at <= before && length <= before - at;
        }

        ulong from = Start;
        foreach ((ulong takenStart, ulong takenEnd) in _taken)
        {
            if (takenEnd <= from) continue;
            if (TryFit(from, takenStart, out ulong at, out bool outOfReach)) return at;
            if (outOfReach) return null;
            from = takenEnd;
        }
        return TryFit(from, Limit, out ulong last, out _) ? last : null;
    }

    /// <summary>Records that [address, address+length) is now taken (placed there, or found occupied).</summary>
    public void Consume(ulong address, ulong length)
    {
        if (length == 0) return;
        ulong start = address, end = address + length < address ? ulong.MaxValue : address + length;
        int i = 0;
        while (i < _taken.Count && _taken[i].End < start) i++;
        while (i < _taken.Count && _taken[i].Start <= end)
        {
            start = Math.Min(start, _taken[i].Start);
            end = Math.Max(end, _taken[i].End);
            _taken.RemoveAt(i);
        }
        _taken.Insert(i, (start, end));
    }

    /// <summary>Records that [address, address+length) was unmapped: free for the next image.</summary>
    public void Release(ulong address, ulong length)
    {
        if (length == 0) return;
        ulong start = address, end = address + length < address ? ulong.MaxValue : address + length;
        for (int i = _taken.Count - 1; i >= 0; i--)
        {
            (ulong s, ulong e) = _taken[i];
            if (e <= start || s >= end) continue;
            _taken.RemoveAt(i);
            if (end < e) _taken.Insert(i, (end, e));
            if (s < start) _taken.Insert(i, (s, start));
        }
    }

    /// <summary>
    /// A placement at <paramref name="address"/> failed because something we did not know of is
    /// there: take every mapping of <paramref name="mapped"/> (the process's current ones), and at
    /// least the attempted range, so the next candidate differs.
    /// </summary>
    public void NoteOccupied(ulong address, ulong length, IEnumerable<(ulong Start, ulong End)> mapped)
    {
        bool found = false;
        foreach ((ulong s, ulong e) in mapped)
        {
            Consume(s, e - s);
            found |= s < address + length && e > address;
        }
        if (!found) Consume(address, length);
    }

    /// <summary>The taken ranges, lowest first (for tests and diagnostics).</summary>
    public IReadOnlyList<(ulong Start, ulong End)> Taken => _taken;

    private static ulong AlignUp(ulong value, ulong alignment) =>
        value > ulong.MaxValue - (alignment - 1) ? ulong.MaxValue : (value + alignment - 1) & ~(alignment - 1);
}
