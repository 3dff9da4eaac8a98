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
}
