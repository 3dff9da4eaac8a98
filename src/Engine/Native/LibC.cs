using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>
/// The only place the engine calls libc directly. Host-side memory management for the code cache,
/// the context blocks and the guest's initial mappings; guest system calls go through
/// <see cref="RawSyscall"/> instead so that the raw kernel result (negative errno) is preserved.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe partial class LibC
{
    public const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    public const int MapShared = 0x01, MapPrivate = 0x02, MapFixed = 0x10, MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000, MapFixedNoReplace = 0x100000;
    public static readonly nint MapFailed = -1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(nint addr, nuint length, int prot);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    /// <summary>open(2) with a mode, for O_CREAT.</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc")]
    public static partial int getpid();

    /// <summary>Sleeps without the runtime's wait subsystem, whose process-wide lock a fork at that moment would leave held in the child (<see cref="Syscalls.ForkGate"/>).</summary>
    [LibraryImport("libc")]
    public static partial int usleep(uint microseconds);

    /// <summary>tgkill(2); with signal 0, whether thread <paramref name="tid"/> of process <paramref name="tgid"/> still exists (0) or not (-1, ESRCH).</summary>
    [LibraryImport("libc")]
    public static partial int tgkill(int tgid, int tid, int signal);

    [LibraryImport("libc")]
    public static partial int getppid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint readlink(string path, byte* buffer, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint getrandom(byte* buffer, nuint count, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getrlimit(int resource, ulong* limits);

    public struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint process_vm_readv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint process_vm_writev(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint pread(int fd, byte* buffer, nuint count, long offset);

    public struct PollFd
    {
        public int Fd;
        public short Events, Returned;
    }

    public const short PollIn = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    /// <summary>Through memcheck's interposed pipe2 (Memcheck/Native/tool_descriptors.c): both ends land in memcheck's range.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fstatat(int dirfd, string path, byte* buffer, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint getxattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc")]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    public static partial nint signal(int signum, nint handler);

    [LibraryImport("libc")]
    public static partial int raise(int signal);

    [LibraryImport("libc")]
    public static partial int pthread_sigmask(int how, ulong* set, ulong* oldset);

    [LibraryImport("libc")]
    public static partial int clock_gettime(int clock, long* time);

    public const int MadvDontNeed = 4;
    public const int MadvHugePage = 14;
    public const int MadvNoHugePage = 15;
    public const int MadvPopulateWrite = 23;   // Linux 5.14

    public const int WriteOk = 2;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int access(string path, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "semctl")]
    private static partial int SemctlStat(int semid, int semnum, int cmd, byte* buffer);

    /// <summary>
    /// How many semaphores the set <paramref name="semid"/> holds (semctl IPC_STAT's sem_nsems, at
    /// offset 80 of x86-64's struct semid_ds), 0 when the kernel will not say: the length of
    /// semctl GETALL's and SETALL's array, which no argument gives.
    /// </summary>
    public static ulong SemaphoreCount(int semid)
    {
        const int IpcStat = 2, SemidDsSize = 104, NsemsOffset = 80;
        byte* buffer = stackalloc byte[SemidDsSize];
        return SemctlStat(semid, 0, IpcStat, buffer) < 0 ? 0 : *(ulong*)(buffer + NsemsOffset);
    }
}
