using System.Globalization;
using Checker.Symbols.Elf;

namespace Checker.Engine.Memory;

/// <summary>A file mapping that holds an address: the module's path, where the mapping starts and at which file offset.</summary>
public readonly record struct ModuleLocation(string Path, ulong MappingStart, ulong MappingOffset, ulong FileOffset)
{
    /// <summary>The bias between the ELF's virtual addresses and memory (opens the file: cache it per path).</summary>
    public ulong LoadBias => ModuleLocator.LoadBias(Path, MappingStart, MappingOffset) ?? 0;
}

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
            // start-end perms offset dev inode path
            string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6 || !f[5].StartsWith('/')) continue;
            int dash = f[0].IndexOf('-');
            ulong start = ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber);
            ulong end = ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber);
            if (address < start || address >= end) continue;
            string path = f[5].Trim();
            ulong mapOffset = ulong.Parse(f[2], NumberStyles.HexNumber);
            ulong fileOffset = mapOffset + (address - start);
            return new ModuleLocation(path, start, mapOffset, fileOffset);
        }
        return null;
    }

    /// <summary>module+offset (offset into the file), or null for anonymous memory.</summary>
    public static string? Describe(ulong address) =>
        Find(address) is ModuleLocation m ? $"{m.Path}+0x{m.FileOffset:x}" : null;

    /// <summary>The bias that maps the ELF's virtual addresses to where the mapping put them.</summary>
    public static ulong? LoadBias(string path, ulong mappingStart, ulong mappingOffset)
    {
        try
        {
            ElfImage image = ElfImage.Open(path);
            foreach (ElfProgramHeader ph in image.ProgramHeaders)
            {
                if (ph.Type != ElfSegmentType.Load) continue;
                ulong segmentFileStart = ph.Offset & ~0xfffUL;
                if (mappingOffset < segmentFileStart || mappingOffset >= ph.Offset + ph.FileSize) continue;
                ulong vaddrAtMapping = (ph.VirtualAddress & ~0xfffUL) + (mappingOffset - segmentFileStart);
                return mappingStart - vaddrAtMapping;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
        }
        return null;
    }
}
