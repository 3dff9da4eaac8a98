using System.Globalization;
using Checker.Symbols.Elf;

namespace Checker.Engine.Memory;

/// <summary>A file mapping that holds an address: the module's path, where the mapping starts and at which file offset.</summary>
public readonly record struct ModuleLocation(string Path, ulong MappingStart, ulong MappingOffset, ulong FileOffset, bool Executable = false)
{
    /// <summary>The bias between the ELF's virtual addresses and memory (opens the file: cache it per path).</summary>
    public ulong LoadBias => ModuleLocator.LoadBias(Path, MappingStart, MappingOffset, Executable) ?? 0;
}

/// <summary>A file mapping of /proc/self/maps: [Start, End) maps the file at Path from Offset; Executable: its x permission.</summary>
public readonly record struct FileMapping(ulong Start, ulong End, ulong Offset, string Path, bool Executable = false);

/// <summary>
/// Names the module that holds an address, from /proc/self/maps: the guest's ld.so maps its
/// libraries itself, so the kernel's view is the record. Used at report time only.
/// </summary>
public static class ModuleLocator
{
    public static ModuleLocation? Find(ulong address)
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if (Parse(line) is (ulong start, ulong end, ulong mapOffset, string path, bool executable) && address >= start && address < end)
                return new ModuleLocation(path, start, mapOffset, mapOffset + (address - start), executable);
        }
        return null;
    }

    /// <summary>The file mappings of /proc/self/maps now, by start: for many lookups while nothing is mapped or unmapped (<see cref="Find(FileMapping[], ulong)"/>).</summary>
    public static FileMapping[] Snapshot()
    {
        var mappings = new List<FileMapping>();
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if (Parse(line) is (ulong start, ulong end, ulong mapOffset, string path, bool executable)) mappings.Add(new FileMapping(start, end, mapOffset, path, executable));
        }
        return mappings.ToArray();
    }

    /// <summary>As <see cref="Find(ulong)"/>, in a <see cref="Snapshot"/> (the kernel lists mappings by address).</summary>
    public static ModuleLocation? Find(FileMapping[] snapshot, ulong address)
    {
        int lo = 0, hi = snapshot.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            FileMapping m = snapshot[mid];
            if (address < m.Start) hi = mid - 1;
            else if (address >= m.End) lo = mid + 1;
            else return new ModuleLocation(m.Path, m.Start, m.Offset, m.Offset + (address - m.Start), m.Executable);
        }
        return null;
    }

    /// <summary>A line of /proc/self/maps that maps a file: start-end perms offset dev inode path.</summary>
    private static (ulong Start, ulong End, ulong Offset, string Path, bool Executable)? Parse(string line)
    {
        string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 6 || !f[5].StartsWith('/')) return null;
        int dash = f[0].IndexOf('-');
        ulong start = ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber);
        ulong end = ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber);
        return (start, end, ulong.Parse(f[2], NumberStyles.HexNumber), f[5].Trim(), f[1].Length > 2 && f[1][2] == 'x');
    }

    /// <summary>module+offset (offset into the file), or null for anonymous memory.</summary>
    public static string? Describe(ulong address) =>
        Find(address) is ModuleLocation m ? $"{m.Path}+0x{m.FileOffset:x}" : null;

    /// <summary>
    /// The bias that maps the ELF's virtual addresses to where the mapping put them. Two PT_LOADs may
    /// hold the mapping's file page (lld packs segments in the file and puts the next one a page
    /// further in memory: libcoreclr's text starts in the page its read-only data ends in, at a
    /// virtual address 0x1000 above its file offset): the one whose execute permission is the
    /// mapping's (<paramref name="executable"/>) is the segment mapped there; the first holding the
    /// page was off by a page for every pc in that text.
    /// </summary>
    public static ulong? LoadBias(string path, ulong mappingStart, ulong mappingOffset, bool executable = false)
    {
        try
        {
            ElfImage image = ElfImage.Open(path);
            ulong? firstHolding = null;
            foreach (ElfProgramHeader ph in image.ProgramHeaders)
            {
                if (ph.Type != ElfSegmentType.Load) continue;
                ulong segmentFileStart = ph.Offset & ~0xfffUL;
                if (mappingOffset < segmentFileStart || mappingOffset >= ph.Offset + ph.FileSize) continue;
                ulong vaddrAtMapping = (ph.VirtualAddress & ~0xfffUL) + (mappingOffset - segmentFileStart);
                if (ph.Flags.HasFlag(ElfSegmentFlags.Execute) == executable) return mappingStart - vaddrAtMapping;
                firstHolding ??= mappingStart - vaddrAtMapping;
            }
            return firstHolding;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
        }
        return null;
    }
}
