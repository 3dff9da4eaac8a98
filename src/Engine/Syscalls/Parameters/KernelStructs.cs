namespace Checker.Engine.Syscalls.Parameters;

/// <summary>The x86-64 kernel ABI's structure sizes the syscall table uses (checked against gcc by a test).</summary>
public static class KernelStructs
{
    public static readonly KernelStruct Stat = new("struct stat", 144);
    public static readonly KernelStruct Statx = new("struct statx", 256);
    public static readonly KernelStruct Statfs = new("struct statfs", 120);
    public static readonly KernelStruct Timespec = new("struct timespec", 16);
    public static readonly KernelStruct Timeval = new("struct timeval", 16);
    public static readonly KernelStruct TimespecPair = new("struct timespec[2]", 32);
    public static readonly KernelStruct TimevalPair = new("struct timeval[2]", 32);
    public static readonly KernelStruct Utimbuf = new("struct utimbuf", 16);
    public static readonly KernelStruct Timezone = new("struct timezone", 8);
    public static readonly KernelStruct Itimerval = new("struct itimerval", 32);
    public static readonly KernelStruct Itimerspec = new("struct itimerspec", 32);
    public static readonly KernelStruct Timex = new("struct timex", 208);
    public static readonly KernelStruct Tms = new("struct tms", 32);
    public static readonly KernelStruct TimeT = new("time_t", 8);
    public static readonly KernelStruct Rlimit = new("struct rlimit", 16);
    public static readonly KernelStruct Rusage = new("struct rusage", 144);
    public static readonly KernelStruct Sysinfo = new("struct sysinfo", 112);
    public static readonly KernelStruct Utsname = new("struct utsname", 390);
    public static readonly KernelStruct SigInfo = new("siginfo_t", 128);
    public static readonly KernelStruct SigEvent = new("struct sigevent", 64);
    public static readonly KernelStruct StackT = new("stack_t", 24);
    public static readonly KernelStruct Flock = new("struct flock", 32);
    public static readonly KernelStruct EpollEvent = new("struct epoll_event", 12);
    public static readonly KernelStruct PollFd = new("struct pollfd", 8);
    public static readonly KernelStruct IoVec = new("struct iovec", 16);
    public static readonly KernelStruct MsgHdr = new("struct msghdr", 56);
    public static readonly KernelStruct MmsgHdr = new("struct mmsghdr", 64);
    public static readonly KernelStruct OpenHow = new("struct open_how", 24);
    public static readonly KernelStruct SemBuf = new("struct sembuf", 6);
    public static readonly KernelStruct ShmidDs = new("struct shmid_ds", 112);
    public static readonly KernelStruct ShmInfo = new("struct shminfo", 72);
    public static readonly KernelStruct ShmUsage = new("struct shm_info", 48);
    public static readonly KernelStruct SemidDs = new("struct semid_ds", 104);
    public static readonly KernelStruct SemInfo = new("struct seminfo", 40);
    public static readonly KernelStruct MsqidDs = new("struct msqid_ds", 120);
    public static readonly KernelStruct MsgInfo = new("struct msginfo", 32);
    public static readonly KernelStruct MqAttr = new("struct mq_attr", 64);
    public static readonly KernelStruct IoEvent = new("struct io_event", 32);
    public static readonly KernelStruct UserRegs = new("struct user_regs_struct", 216);
    public static readonly KernelStruct UserFpRegs = new("struct user_fpregs_struct", 512);
    public static readonly KernelStruct Termios = new("struct termios", 36, KernelHeader: true);
    public static readonly KernelStruct Termios2 = new("struct termios2", 44, KernelHeader: true);
    public static readonly KernelStruct WinSize = new("struct winsize", 8, KernelHeader: true);
    public static readonly KernelStruct SigAction = new("struct sigaction", 32, KernelHeader: true);
    public static readonly KernelStruct SigSet = new("sigset_t", 8, KernelHeader: true);

    public static IReadOnlyList<KernelStruct> All { get; } =
    [
        Stat, Statx, Statfs, Timespec, Timeval, TimespecPair, TimevalPair, Utimbuf, Timezone, Itimerval, Itimerspec, Timex, Tms, TimeT, Rlimit, Rusage,
        Sysinfo, Utsname, SigInfo, SigEvent, StackT, Flock, EpollEvent, PollFd, IoVec, MsgHdr, MmsgHdr, OpenHow,
        SemBuf, ShmidDs, ShmInfo, ShmUsage, SemidDs, SemInfo, MsqidDs, MsgInfo, MqAttr, IoEvent, UserRegs, UserFpRegs, Termios, Termios2, WinSize, SigAction, SigSet,
    ];
}
