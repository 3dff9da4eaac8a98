using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>Resource limits memcheck was started with (what the program would have had natively).</summary>
[SupportedOSPlatform("linux")]
public static unsafe class HostLimits
{
    private const int RlimitStack = 3;

    /// <summary>RLIMIT_AS's soft limit (ulimit -v), or null when unlimited.</summary>
    public static ulong? AddressSpaceLimit()
    {
        const int RlimitAs = 9;
        ulong* limits = stackalloc ulong[2];
        if (LibC.getrlimit(RlimitAs, limits) != 0) return null;
        return limits[0] == ulong.MaxValue ? null : limits[0];
    }

    /// <summary>RLIMIT_STACK's soft limit, or null when unlimited.</summary>
    public static ulong? StackLimit()
    {
        ulong* limits = stackalloc ulong[2];
        if (LibC.getrlimit(RlimitStack, limits) != 0) return null;
        return limits[0] == ulong.MaxValue ? null : limits[0];
    }
}
