using System.Runtime.InteropServices;

namespace Checker.Shadow.Native;

/// <summary>
/// The only place the shadow library calls libc: the reservation (mmap/munmap) and giving back shadow
/// pages that became all-defined (madvise).
/// </summary>
internal static partial class ShadowLibC
{
    public const int ProtRead = 1, ProtWrite = 2;
    public const int MapPrivate = 0x02, MapAnonymous = 0x20, MapNoReserve = 0x4000;
    public const int MadvDontNeed = 4;
    public static readonly nint MapFailed = -1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(nint addr, nuint length, int prot);
}
