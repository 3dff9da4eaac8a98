using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// /proc/self/exe is the guest's executable, not memcheck: system calls that name it get
/// /proc/self/fd/N of memcheck's descriptor of that file instead (<see cref="SelfExecutable"/>),
/// so readlink gives the resolved path ($ORIGIN lookups, java's launcher), open and stat the
/// program's own ELF file, and the kernel does the rest exactly as for /proc/self/exe.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong AtSymlinkNofollow = 0x100;
    /// <summary>Longest path worth reading to compare with the /proc/.../exe forms ("/proc/PID/task/TID/exe" with room for slashes).</summary>
    private const int SelfPathMaxBytes = 64;

    /// <summary>
    /// System calls that name a file and follow a final symlink: the argument holding the path and,
    /// for those that can be told not to follow it, the argument holding AT_SYMLINK_NOFOLLOW (0 if none).
    /// Not following, they act on the link itself, which is a link in memcheck's /proc/self too.
    /// </summary>
    private static readonly (int Number, int PathArgument, int FlagsArgument)[] SelfPathCalls =
    [
        (SyscallNumbers.Open, 1, 0),
        (SyscallNumbers.Stat, 1, 0),
        (SyscallNumbers.Access, 1, 0),
        (SyscallNumbers.Openat, 2, 0),
        (SyscallNumbers.Newfstatat, 2, 4),
        (SyscallNumbers.Faccessat, 2, 0),
        (SyscallNumbers.Statx, 2, 3),
        (SyscallNumbers.Openat2, 2, 0),
        (SyscallNumbers.Faccessat2, 2, 4),
    ];

    private void AddSelfPathCalls()
    {
        foreach ((int number, int pathArgument, int flagsArgument) in SelfPathCalls)
            _table[number] = r => PassThrough(WithSelfPath(r, pathArgument, flagsArgument));
    }

    /// <summary><paramref name="r"/>, with /proc/self/fd/N for its path when that names /proc/self/exe.</summary>
    private SyscallRequest WithSelfPath(SyscallRequest r, int pathArgument, int flagsArgument)
    {
        if (flagsArgument != 0 && (Argument(r, flagsArgument) & AtSymlinkNofollow) != 0) return r;
        return NamesSelf(Argument(r, pathArgument)) ? WithArgument(r, pathArgument, _process.SelfExecutable.LinkPath) : r;
    }

    /// <summary>readlink/readlinkat: of /proc/self/exe, the kernel's readlink of our link (same truncation, same EFAULT).</summary>
    private long Readlink(SyscallRequest r, ulong pathAddress, ulong buffer, ulong size) =>
        NamesSelf(pathAddress)
            ? _process.Kernel.Call(SyscallNumbers.Readlink, _process.SelfExecutable.LinkPath, buffer, size)
            : PassThrough(r);

    private bool NamesSelf(ulong pathAddress) =>
        GuestMemory.TryReadCString(pathAddress, SelfPathMaxBytes) is string path &&
        path.Contains("/proc/", StringComparison.Ordinal) && path.EndsWith("exe", StringComparison.Ordinal) &&
        SelfExecutable.Names(path, LibC.getpid(), (int)_process.Kernel.Call(SyscallNumbers.Gettid));

    private static ulong Argument(in SyscallRequest r, int index) => index switch
    {
        1 => r.A1, 2 => r.A2, 3 => r.A3, 4 => r.A4, 5 => r.A5, 6 => r.A6,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    private static SyscallRequest WithArgument(in SyscallRequest r, int index, ulong value) => index switch
    {
        1 => r with { A1 = value }, 2 => r with { A2 = value }, 3 => r with { A3 = value },
        4 => r with { A4 = value }, 5 => r with { A5 = value }, 6 => r with { A6 = value },
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };
}
