using System.Runtime.InteropServices;

namespace Checker.Shadow.Native;

/// <summary>
/// The only place the shadow library calls libc: the reservation (mmap/munmap), giving back shadow
/// pages that became all-defined (madvise, mincore), and the shared Unaddressable pages' memory file.
/// </summary>
internal static partial class ShadowLibC
{
    public const int ProtRead = 1, ProtWrite = 2;
    public const int MapPrivate = 0x02, MapFixed = 0x10, MapAnonymous = 0x20, MapNoReserve = 0x4000;
    public const uint MfdCloexec = 1;
    public const int FDupFdCloexec = 1030;
    public const int MadvDontNeed = 4;
    public const int MadvPopulateWrite = 23;   // Linux 5.14
    public static readonly nint MapFailed = -1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(nint addr, nuint length, int prot);

    // Whether shadow pages are resident (an unmapped range's partial pages: untouched ones hold zeros).
    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int mincore(nint addr, nuint length, byte* vector);
    // The shared pattern pages' memory file (SharedPatternPages).
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint pwrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);
}
