using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>Whole-process actions the command line needs, kept behind the native boundary.</summary>
[SupportedOSPlatform("linux")]
public static class HostProcess
{
    /// <summary>
    /// This process's pid, asked of the kernel each time: .NET's Environment.ProcessId is cached,
    /// so in a child forked by the guest it would still be the parent's.
    /// </summary>
    public static int Id => LibC.getpid();

    /// <summary>The parent's pid (Valgrind's XML names it), asked of the kernel each time, as <see cref="Id"/>.</summary>
    public static int ParentId => LibC.getppid();

    /// <summary>Where memcheck's own descriptors start when the executable has no descriptor range (JIT builds, tests).</summary>
    public const int DefaultToolDescriptorStart = 1000;

    /// <summary>
    /// A private copy of <paramref name="fd"/> numbered at least <paramref name="minimum"/>, close-on-exec:
    /// memcheck's own output must survive the guest closing its stderr (ls does at exit) and not leak into its children.
    /// </summary>
    public static int DuplicateForTool(int fd, int minimum = DefaultToolDescriptorStart) => LibC.fcntl(fd, FDupFdCloexec, minimum);

    /// <summary>
    /// Opens <paramref name="path"/> as one of memcheck's own descriptors (at least <paramref name="minimum"/>).
    /// In the NativeAOT executable open() itself moves it into the descriptor range; elsewhere it is moved here.
    /// </summary>
    public static int OpenForTool(string path, int flags, int minimum = DefaultToolDescriptorStart)
    {
        int fd = LibC.open(path, flags);
        if (fd < 0 || fd >= minimum) return fd;
        int high = LibC.fcntl(fd, FDupFdCloexec, minimum);
        if (high < 0) return fd;
        LibC.close(fd);
        return high;
    }

    /// <summary>
    /// Creates or opens <paramref name="path"/> for appending (emptied first when <paramref name="truncate"/>),
    /// as one of memcheck's own descriptors. Returns the descriptor, or -errno.
    /// </summary>
    public static int CreateForTool(string path, bool truncate, int minimum = DefaultToolDescriptorStart)
    {
        const int WriteOnly = 1, Create = 0x40, Truncate = 0x200, Append = 0x400, CloseOnExec = 0x80000;
        int fd = LibC.open(path, WriteOnly | Create | Append | CloseOnExec | (truncate ? Truncate : 0), 0x1b6);
        if (fd < 0) return -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (fd >= minimum) return fd;
        int high = LibC.fcntl(fd, FDupFdCloexec, minimum);
        if (high < 0) return fd;
        LibC.close(fd);
        return high;
    }

    private const int FDupFdCloexec = 1030;

    /// <summary>Dies of <paramref name="signal"/> with its default action (so a parent sees the same death).</summary>
    public static void DieBy(int signal)
    {
        LibC.signal(signal, 0 /* SIG_DFL */);
        // Deliver to this very thread, unblocked: a process-directed kill could land on another
        // thread while this one has already reached the exit below.
        ulong set = 1UL << (signal - 1);
        unsafe { LibC.pthread_sigmask(1 /* SIG_UNBLOCK */, &set, null); }
        LibC.raise(signal);
        // A blocked or ignored signal did not kill us: exit as a shell would report it.
        Environment.Exit(128 + signal);
    }
}
