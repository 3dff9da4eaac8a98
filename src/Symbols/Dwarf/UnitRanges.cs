using System.Buffers.Binary;

namespace Checker.Symbols.Dwarf;

/// <summary>
/// .debug_aranges read by Checker: address ranges and the offset of the compile unit holding each,
/// sorted for a binary search. Why not libdw's <c>dwarf_addrdie</c>: libdw 0.188 turns each set's
/// unit offset into its DIE offset by reading every unit's header, so the first lookup in libc's
/// separate debug file (5.8 MB of .debug_info in ~1,500 units) made 5.9 MB of the file resident
/// and 2.3 MB of libdw's unit records; reports name libc frames in nearly every run. The unit at
/// the found offset is then read alone (<c>dwarf_next_unit</c>, <c>dwarf_offdie</c>; libdw still
/// records the units before it, so an early unit such as libc-start.c's costs ~0.3 MB).
/// </summary>
internal sealed class UnitRanges
{
    private readonly struct Range(ulong start, ulong end, ulong unit)
    {
        public readonly ulong Start = start, End = end, Unit = unit;
    }

    // By start: one array of values (libc's debug file lists ~6,000 ranges).
    private readonly Range[] _ranges;

    private UnitRanges(Range[] ranges) => _ranges = ranges;

    /// <summary>How many ranges the section lists.</summary>
    public int Count => _ranges.Length;

    /// <summary>
    /// Parses a .debug_aranges section (DWARF 2-5, 32- and 64-bit sets, 4- and 8-byte addresses,
    /// no segment selectors); null when it is malformed or uses what this does not read, so the
    /// caller falls back on libdw.
    /// </summary>
    public static UnitRanges? Parse(ReadOnlySpan<byte> section)
    {
        int count = Walk(section, null);
        if (count < 0) return null;
        var ranges = new Range[count];
        Walk(section, ranges);
        Array.Sort(ranges, (a, b) => a.Start.CompareTo(b.Start));
        return new UnitRanges(ranges);
    }

    // Counts the ranges (into: null), or stores them; -1 when the section is not read here.
    private static int Walk(ReadOnlySpan<byte> section, Range[]? into)
    {
        int count = 0, at = 0;
        while (at < section.Length)
        {
            if (section.Length - at < 4) return -1;
            ulong length = BinaryPrimitives.ReadUInt32LittleEndian(section[at..]);
            int lengthSize = 4;
            if (length == 0xffff_ffff)
            {
                if (section.Length - at < 12) return -1;
                length = BinaryPrimitives.ReadUInt64LittleEndian(section[(at + 4)..]);
                lengthSize = 12;
            }
            else if (length >= 0xffff_fff0) return -1;
            if (length > (ulong)(section.Length - at - lengthSize)) return -1;
            ReadOnlySpan<byte> set = section.Slice(at, lengthSize + (int)length);
            int offsetSize = lengthSize == 4 ? 4 : 8;
            int p = lengthSize;
            if (set.Length < p + 2 + offsetSize + 2) return -1;
            if (BinaryPrimitives.ReadUInt16LittleEndian(set[p..]) != 2) return -1;
            p += 2;
            ulong unit = offsetSize == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(set[p..]) : BinaryPrimitives.ReadUInt64LittleEndian(set[p..]);
            p += offsetSize;
            int addressSize = set[p], segmentSize = set[p + 1];
            p += 2;
            if (addressSize is not (4 or 8) || segmentSize != 0) return -1;
            // Tuples start at a multiple of their size from the set's start.
            int tuple = 2 * addressSize;
            for (p = (p + tuple - 1) / tuple * tuple; p + tuple <= set.Length; p += tuple)
            {
                ulong start = Address(set[p..], addressSize), size = Address(set[(p + addressSize)..], addressSize);
                if (start == 0 && size == 0) break;
                if (size == 0 || start + size < start) continue;
                if (into != null) into[count] = new Range(start, start + size, unit);
                count++;
            }
            at += set.Length;
        }
        return count;
    }

    private static ulong Address(ReadOnlySpan<byte> bytes, int size) =>
        size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    /// <summary>
    /// The offset in .debug_info of the unit whose range holds <paramref name="address"/>: the last
    /// range starting at or below it (units' ranges do not overlap; where they would, the caller's
    /// fallback, a scan of the units, still finds the right one).
    /// </summary>
    public bool TryFind(ulong address, out ulong unitOffset)
    {
        int low = 0, high = _ranges.Length - 1, found = -1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            if (_ranges[middle].Start <= address) { found = middle; low = middle + 1; }
            else high = middle - 1;
        }
        bool hit = found >= 0 && address < _ranges[found].End;
        unitOffset = hit ? _ranges[found].Unit : 0;
        return hit;
    }
}
