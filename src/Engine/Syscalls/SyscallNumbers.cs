namespace Checker.Engine.Syscalls;

/// <summary>Linux x86-64 system call numbers the engine treats specially.</summary>
public static class SyscallNumbers
{
    public const int Read = 0, Write = 1, Close = 3, Dup2 = 33, Dup3 = 292, CloseRange = 436, Pread64 = 17, Mmap = 9, Mprotect = 10, Munmap = 11, Brk = 12;
    public const int RtSigaction = 13, RtSigprocmask = 14, RtSigreturn = 15, Mremap = 25;
    public const int Clone = 56, Fork = 57, Vfork = 58, Execve = 59, Exit = 60, Kill = 62;
    public const int Readlink = 89, RtSigtimedwait = 128, RtSigsuspend = 130, Sigaltstack = 131, ArchPrctl = 158, Gettid = 186;
    public const int SetTidAddress = 218, ExitGroup = 231, Readlinkat = 267, SetRobustList = 273;
    public const int Tkill = 200, Tgkill = 234, Futex = 202, Getpid = 39;
    public const int RtSigqueueinfo = 129, RtTgsigqueueinfo = 297, PkeyMprotect = 329, PidfdSendSignal = 424;
    public const int Signalfd = 282, Signalfd4 = 289;
    public const int Shmat = 30, Shmctl = 31, Shmdt = 67;
    public const int Rseq = 334, Clone3 = 435, Execveat = 322;
    public const int Open = 2, Stat = 4, Access = 21, Getrlimit = 97, Setrlimit = 160, Openat = 257, Newfstatat = 262;
    public const int Fcntl = 72, Faccessat = 269, Prlimit64 = 302, ProcessVmReadv = 310, Statx = 332, Openat2 = 437, Faccessat2 = 439;
}

/// <summary>Errno values returned (negated) by emulated system calls.</summary>
public static class Errno
{
    public const long EPERM = 1, ENOENT = 2, EINTR = 4, EBADF = 9, EAGAIN = 11, EACCES = 13, EFAULT = 14, EEXIST = 17, EINVAL = 22, EPIPE = 32, ENOMEM = 12, ENOSYS = 38;
}
