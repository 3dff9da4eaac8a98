using System.Runtime.InteropServices;

namespace Checker.Symbols.Native;

/// <summary>The libc calls of src/Symbols (libc.so.6).</summary>
internal static unsafe partial class LibC
{
    private const string Library = "libc.so.6";

    /// <summary>struct iovec { void *iov_base; size_t iov_len; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    /// <summary>
    /// ssize_t process_vm_readv (pid_t pid, const struct iovec *local_iov, unsigned long liovcnt,
    /// const struct iovec *remote_iov, unsigned long riovcnt, unsigned long flags): bytes copied,
    /// or -1 with errno (EFAULT for an unmapped remote address). Reading one's own pid needs no
    /// ptrace permission, and a bad address is an error return, never a fault.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "process_vm_readv", SetLastError = true)]
    public static partial nint ProcessVmReadv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

    [LibraryImport(Library, EntryPoint = "getpid")]
    public static partial int GetPid();

    public const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const uint S_IFMT = 0xf000, S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFBLK = 0x6000;
    public const uint S_IFIFO = 0x1000, S_IFSOCK = 0xc000;

    /// <summary>struct stat (x86-64): the fields read here, at their offsets, in a 144-byte block.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 144)]
    public struct Stat
    {
        [FieldOffset(0)] public ulong Device;
        [FieldOffset(8)] public ulong Inode;
        [FieldOffset(24)] public uint Mode;
        [FieldOffset(48)] public long Size;
        [FieldOffset(88)] public long ModifiedSeconds;
        [FieldOffset(96)] public long ModifiedNanoseconds;
    }

    /// <summary>int open(const char *path, int flags): a descriptor, or -1 with errno.</summary>
    [LibraryImport(Library, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags);

    /// <summary>int fstat(int fd, struct stat *buf) (exported by glibc since 2.33).</summary>
    [LibraryImport(Library, EntryPoint = "fstat", SetLastError = true)]
    public static partial int FStat(int fd, Stat* buffer);

    /// <summary>ssize_t pread(int fd, void *buf, size_t count, off_t offset).</summary>
    [LibraryImport(Library, EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Library, EntryPoint = "close")]
    public static partial int Close(int fd);
}
