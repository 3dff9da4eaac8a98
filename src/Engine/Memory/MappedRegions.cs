using System.Globalization;

namespace Checker.Engine.Memory;

/// <summary>The process's mappings as /proc/self/maps lists them: what is really in the address space now.</summary>
public static class MappedRegions
{
    /// <summary>[start, end) of every mapping, lowest first; empty if the file cannot be read.</summary>
    public static List<(ulong Start, ulong End)> Read()
    {
        var regions = new List<(ulong, ulong)>();
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int dash = line.IndexOf('-'), space = line.IndexOf(' ');
                if (dash <= 0 || space <= dash) continue;
                if (ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, null, out ulong start) &&
                    ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, null, out ulong end))
                    regions.Add((start, end));
            }
        }
        catch (IOException)
        {
        }
        return regions;
    }
}
