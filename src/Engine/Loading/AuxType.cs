namespace Checker.Engine.Loading;

/// <summary>Aux vector entry types (linux/auxvec.h).</summary>
public static class AuxType
{
    public const ulong AT_NULL = 0, AT_IGNORE = 1, AT_EXECFD = 2, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6;
    public const ulong AT_BASE = 7, AT_FLAGS = 8, AT_ENTRY = 9, AT_NOTELF = 10, AT_UID = 11, AT_EUID = 12, AT_GID = 13;
    public const ulong AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_BASE_PLATFORM = 24;
    public const ulong AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_SYSINFO_EHDR = 33, AT_MINSIGSTKSZ = 51;
}

/// <summary>One aux vector pair.</summary>
public readonly record struct AuxEntry(ulong Type, ulong Value);

/// <summary>The aux vector the kernel gave this (host) process: hardware capabilities, vDSO, ids.</summary>
public static class HostAuxv
{
    public static IReadOnlyList<AuxEntry> Read()
    {
        byte[] raw = File.ReadAllBytes("/proc/self/auxv");
        var list = new List<AuxEntry>();
        for (int o = 0; o + 16 <= raw.Length; o += 16)
        {
            ulong type = BitConverter.ToUInt64(raw, o);
            if (type == AuxType.AT_NULL) break;
            list.Add(new AuxEntry(type, BitConverter.ToUInt64(raw, o + 8)));
        }
        return list;
    }
}
