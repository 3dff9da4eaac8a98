namespace Checker.Memcheck;

/// <summary>The environment exactly as this process received it (order and bytes kept), for the guest.</summary>
public static class HostEnvironment
{
    public static IReadOnlyList<string> Read()
    {
        byte[] raw = File.ReadAllBytes("/proc/self/environ");
        var list = new List<string>();
        int start = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != 0) continue;
            if (i > start) list.Add(System.Text.Encoding.UTF8.GetString(raw, start, i - start));
            start = i + 1;
        }
        return list;
    }
}
