using System.Globalization;

namespace Checker.Engine.Memory;

/// <summary>
/// Names the file mapping that holds an address, as module+offset (offset into the file), from
/// /proc/self/maps: the guest's ld.so maps its libraries itself, so the kernel's view is the record.
/// </summary>
public static class ModuleLocator
{
    public static string? Describe(ulong address)
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
            ulong offset = ulong.Parse(f[2], NumberStyles.HexNumber) + (address - start);
            return $"{f[5].Trim()}+0x{offset:x}";
        }
        return null;
    }
}
