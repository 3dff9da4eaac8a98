using System.Globalization;

namespace Checker.Engine.Memory;

/// <summary>Reads this process's /proc/self/maps (start-up and report time only, never on a hot path).</summary>
public static class HostMappings
{
    /// <summary>The mappings whose name (the pathname column) is one of <paramref name="names"/>, with their protection.</summary>
    public static IReadOnlyList<(ulong Start, ulong End, int Prot)> Named(params string[] names)
    {
        var found = new List<(ulong, ulong, int)>();
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || !names.Contains(fields[5].Trim())) continue;
            string[] range = fields[0].Split('-');
            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            string perms = fields[1];
            int prot = (perms[0] == 'r' ? GuestMappings.Read : 0) | (perms[1] == 'w' ? GuestMappings.Write : 0) | (perms[2] == 'x' ? GuestMappings.Exec : 0);
            found.Add((start, end, prot));
        }
        return found;
    }
}
