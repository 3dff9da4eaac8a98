using System.Globalization;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The process's mappings at one moment (/proc/self/maps), for the leak scan: which ranges can be
/// read without a fault (the program may have made heap pages PROT_NONE or unmapped part of a root
/// region), and which are file mappings with execute permission (code, for the
/// multiple-inheritance heuristic's vtable test), and which are shared (the scan skips never-written
/// pages of private mappings only: <see cref="WrittenPages"/>). Sorted by address; lookups are binary searches.
/// </summary>
public sealed class MappedRegions
{
    [Flags]
    public enum Access : byte { None = 0, Read = 1, Write = 2, Execute = 4, File = 8, Shared = 16 }

    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly Access[] _access;
    // Readable ranges with neighbours merged, so a block across two mappings is one range.
    private readonly ulong[] _readableStarts;
    private readonly ulong[] _readableEnds;

    public MappedRegions(IEnumerable<(ulong Start, ulong End, Access Access)> regions)
    {
        var sorted = regions.Where(r => r.End > r.Start).OrderBy(r => r.Start).ToArray();
        _starts = sorted.Select(r => r.Start).ToArray();
        _ends = sorted.Select(r => r.End).ToArray();
        _access = sorted.Select(r => r.Access).ToArray();
        var readable = new List<(ulong Start, ulong End)>();
        foreach (var r in sorted.Where(r => r.Access.HasFlag(Access.Read)))
        {
            if (readable.Count > 0 && readable[^1].End >= r.Start) readable[^1] = (readable[^1].Start, Math.Max(readable[^1].End, r.End));
            else readable.Add((r.Start, r.End));
        }
        _readableStarts = readable.Select(r => r.Start).ToArray();
        _readableEnds = readable.Select(r => r.End).ToArray();
    }

    /// <summary>The current process's mappings.</summary>
    public static MappedRegions OfCurrentProcess() => Parse(File.ReadLines("/proc/self/maps"));

    /// <summary>Lines in /proc/PID/maps format: <c>start-end perms offset dev inode [path]</c>.</summary>
    public static MappedRegions Parse(IEnumerable<string> lines)
    {
        var regions = new List<(ulong, ulong, Access)>();
        foreach (string line in lines)
        {
            string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5 || f[1].Length < 3) continue;
            int dash = f[0].IndexOf('-');
            if (dash < 0) continue;
            Access access = (f[1][0] == 'r' ? Access.Read : 0) | (f[1][1] == 'w' ? Access.Write : 0) | (f[1][2] == 'x' ? Access.Execute : 0)
                | (f[1].Length > 3 && f[1][3] == 's' ? Access.Shared : 0);
            if (f[4] != "0") access |= Access.File;   // an inode: a file mapping
            regions.Add((ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture), access));
        }
        return new MappedRegions(regions);
    }

    /// <summary>Whether all of [address, address + length) can be read.</summary>
    public bool IsReadable(ulong address, ulong length)
    {
        int i = Covering(_readableStarts, _readableEnds, address);
        return i >= 0 && address + length <= _readableEnds[i] && address + length >= address;
    }

    /// <summary>
    /// The parts of [start, end) that can be read and may hold a stored pointer: readable, and in a
    /// shared mapping or on a page of a private one that was written (<see cref="WrittenPages"/>).
    /// </summary>
    public IEnumerable<(ulong Start, ulong End)> ScannableParts(ulong start, ulong end, WrittenPages written)
    {
        int i = Array.BinarySearch(_starts, start);
        i = i >= 0 ? i : Math.Max(~i - 1, 0);
        for (; i < _starts.Length && _starts[i] < end; i++)
        {
            ulong a = Math.Max(start, _starts[i]), b = Math.Min(end, _ends[i]);
            if (a >= b || !_access[i].HasFlag(Access.Read)) continue;
            if (_access[i].HasFlag(Access.Shared)) yield return (a, b);
            else foreach (var part in written.Of(a, b)) yield return part;
        }
    }

    /// <summary>The access of the mapping holding <paramref name="address"/> and where that mapping ends (None, 0 when unmapped).</summary>
    public (Access Access, ulong End) At(ulong address)
    {
        int i = Covering(_starts, _ends, address);
        return i < 0 ? (Access.None, 0) : (_access[i], _ends[i]);
    }

    private static int Covering(ulong[] starts, ulong[] ends, ulong address)
    {
        int i = Array.BinarySearch(starts, address);
        if (i < 0) i = ~i - 1;
        return i >= 0 && address < ends[i] ? i : -1;
    }
}
