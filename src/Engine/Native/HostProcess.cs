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

    /// <summary>
    /// A private copy of <paramref name="fd"/> numbered at least 1000, close-on-exec: memcheck's own
    /// output must survive the guest closing its stderr (ls does at exit) and not leak into its children.
    /// </summary>
    public static int DuplicateForTool(int fd)
    {
        const int FDupFdCloexec = 1030;
        return LibC.fcntl(fd, FDupFdCloexec, 1000);
    }

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
