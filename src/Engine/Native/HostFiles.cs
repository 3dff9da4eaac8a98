using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>What memcheck asks about a file before following an exec of it.</summary>
[SupportedOSPlatform("linux")]
public static unsafe class HostFiles
{
    private const int AtFdcwd = -100, AtEmptyPath = 0x1000, StatSize = 144;

    /// <summary>Whether the file carries capabilities (security.capability): exec'd natively it gains them, under memcheck it would not.</summary>
    public static bool HasCapabilities(string path) => LibC.getxattr(path, "security.capability", null, 0) > 0;

    /// <summary>The file's device and inode (null if it cannot be stat'ed).</summary>
    public static (ulong Device, ulong Inode)? Identity(string path) => Stat(AtFdcwd, path, 0);

    /// <summary>The device and inode of the file <paramref name="fd"/> refers to (an O_PATH descriptor works).</summary>
    public static (ulong Device, ulong Inode)? Identity(int fd) => Stat(fd, "", AtEmptyPath);

    private static (ulong, ulong)? Stat(int dirfd, string path, int flags)
    {
        byte* buffer = stackalloc byte[StatSize];
        // struct stat on x86-64: st_dev at 0, st_ino at 8.
        return LibC.fstatat(dirfd, path, buffer, flags) == 0 ? (*(ulong*)buffer, *(ulong*)(buffer + 8)) : null;
    }
}
