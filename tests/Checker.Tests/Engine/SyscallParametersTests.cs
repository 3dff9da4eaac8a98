using Checker.Engine.Syscalls.Parameters;
using Xunit;
using R = Checker.Engine.Syscalls.Parameters.SyscallMemoryRange;

namespace Checker.Tests.Engine;

/// <summary>The syscall parameter table: what memory each call's arguments name, before and after the call.</summary>
public class SyscallParametersTests
{
    private const long Read = 0, Write = 1, Stat = 4, Poll = 7, Ioctl = 16, Readv = 19, Writev = 20, Nanosleep = 35, Connect = 42, Accept = 43,
        Sendmsg = 46, Recvmsg = 47, Execve = 59, Wait4 = 61, Fcntl = 72, Futex = 202, Getdents64 = 217, Open = 2;
    private const KernelAccess Reads = KernelAccess.Reads, Writes = KernelAccess.Writes;

    private readonly FakeGuestMemory _memory = new();

    private List<R> Before(long number, params ulong[] args)
    {
        var ranges = new List<R>();
        SyscallTable.Before(number, args, _memory, ranges);
        return ranges;
    }

    private List<R> After(long number, long result, params ulong[] args)
    {
        var ranges = new List<R>();
        SyscallTable.After(number, args, result, _memory, ranges);
        return ranges;
    }

    [Fact]
    public void WriteReadsItsBufferAndWritesNothing()
    {
        Assert.Equal([new R("write(buf)", 0x5000, 100, Reads)], Before(Write, 1, 0x5000, 100));
        Assert.Empty(After(Write, 100, 1, 0x5000, 100));
        // A zero count touches no memory, even at NULL.
        Assert.Empty(Before(Write, 1, 0, 0));
        // NULL with a count: the range at 0, for the tool to report as unaddressable.
        Assert.Equal([new R("write(buf)", 0, 10, Reads)], Before(Write, 1, 0, 10));
    }

    [Fact]
    public void ReadWritesItsBufferAndDefinesOnlyWhatTheResultSays()
    {
        Assert.Equal([new R("read(buf)", 0x5000, 100, Writes)], Before(Read, 0, 0x5000, 100));
        Assert.Equal([new R("read(buf)", 0x5000, 7, Writes)], After(Read, 7, 0, 0x5000, 100));
        Assert.Empty(After(Read, 0, 0, 0x5000, 100));
        Assert.Empty(After(Read, -11, 0, 0x5000, 100));
    }

    [Fact]
    public void WritevGivesTheVectorThenEachElement()
    {
        ulong vector = _memory.Words(0x1000, 5, 0x2000, 0, 0x3000, 9);
        Assert.Equal(
        [
            new R("writev(vector)", vector, 48, Reads),
            new R("writev(vector[0])", 0x1000, 5, Reads),
            // A zero-length element touches nothing.
            new R("writev(vector[2])", 0x3000, 9, Reads),
        ], Before(Writev, 1, vector, 3));
    }

    [Fact]
    public void ANullOrUnreadableIovecArrayGivesOnlyTheVector()
    {
        Assert.Equal([new R("writev(vector)", 0, 48, Reads)], Before(Writev, 1, 0, 3));
        Assert.Equal([new R("readv(vector)", 0x10, 32, Reads)], Before(Readv, 1, 0x10, 2));
        // Partly readable: the elements up to the end of readable memory.
        ulong last = _memory.End - 16;
        _memory.WriteUInt64(last, 0x4000);
        _memory.WriteUInt64(last + 8, 3);
        Assert.Equal([new R("writev(vector)", last, 32, Reads), new R("writev(vector[0])", 0x4000, 3, Reads)], Before(Writev, 1, last, 2));
    }

    [Fact]
    public void ReadvDefinesTheResultsBytesAcrossElementsInOrder()
    {
        ulong vector = _memory.Words(0x1000, 4, 0x2000, 8, 0x3000, 8);
        Assert.Equal(
        [
            new R("readv(vector)", vector, 48, Reads),
            new R("readv(vector[0])", 0x1000, 4, Writes),
            new R("readv(vector[1])", 0x2000, 8, Writes),
            new R("readv(vector[2])", 0x3000, 8, Writes),
        ], Before(Readv, 0, vector, 3));
        Assert.Equal([new R("readv(vector[0])", 0x1000, 4, Writes), new R("readv(vector[1])", 0x2000, 6, Writes)], After(Readv, 10, 0, vector, 3));
    }

    /// <summary>A msghdr: name, namelen, iov, iovlen, control, controllen, flags.</summary>
    private ulong MsgHdr(ulong name, uint nameLength, ulong iov, ulong iovLength, ulong control, ulong controlLength)
    {
        ulong header = _memory.Words(name, 0, iov, iovLength, control, controlLength, 0);
        _memory.WriteUInt32(header + 8, nameLength);
        return header;
    }

    [Fact]
    public void SendmsgWalksTheMsghdrSkippingItsPaddingAndFlags()
    {
        ulong iov = _memory.Words(0x1000, 3, 0x2000, 4);
        ulong msg = MsgHdr(0x6000, 16, iov, 2, 0x7000, 24);
        Assert.Equal(
        [
            new R("sendmsg(msg)", msg, 12, Reads),
            new R("sendmsg(msg)", msg + 16, 32, Reads),
            new R("sendmsg(msg.msg_name)", 0x6000, 16, Reads),
            new R("sendmsg(msg.msg_iov)", iov, 32, Reads),
            new R("sendmsg(msg.msg_iov[0])", 0x1000, 3, Reads),
            new R("sendmsg(msg.msg_iov[1])", 0x2000, 4, Reads),
            new R("sendmsg(msg.msg_control)", 0x7000, 24, Reads),
        ], Before(Sendmsg, 3, msg, 0));
        Assert.Empty(After(Sendmsg, 7, 3, msg, 0));
        Assert.Equal([new R("sendmsg(msg)", 0, 12, Reads), new R("sendmsg(msg)", 16, 32, Reads)], Before(Sendmsg, 3, 0, 0));
    }

    [Fact]
    public void RecvmsgWritesTheBuffersAndAfterwardsWhatTheKernelFilled()
    {
        ulong iov = _memory.Words(0x1000, 3, 0x2000, 40);
        ulong msg = MsgHdr(0x6000, 110, iov, 2, 0, 0);
        Assert.Equal(
        [
            new R("recvmsg(msg)", msg, 12, Reads),
            new R("recvmsg(msg)", msg + 16, 32, Reads),
            new R("recvmsg(msg.msg_flags)", msg + 48, 4, Writes),
            new R("recvmsg(msg.msg_name)", 0x6000, 110, Writes),
            new R("recvmsg(msg.msg_iov)", iov, 32, Reads),
            new R("recvmsg(msg.msg_iov[0])", 0x1000, 3, Writes),
            new R("recvmsg(msg.msg_iov[1])", 0x2000, 40, Writes),
        ], Before(Recvmsg, 3, msg, 0));
        // The kernel set msg_namelen to the address it had (16 bytes) and received 5 bytes.
        _memory.WriteUInt32(msg + 8, 16);
        Assert.Equal(
        [
            new R("recvmsg(msg.msg_namelen)", msg + 8, 4, Writes),
            new R("recvmsg(msg.msg_controllen)", msg + 40, 8, Writes),
            new R("recvmsg(msg.msg_flags)", msg + 48, 4, Writes),
            new R("recvmsg(msg.msg_name)", 0x6000, 16, Writes),
            new R("recvmsg(msg.msg_iov[0])", 0x1000, 3, Writes),
            new R("recvmsg(msg.msg_iov[1])", 0x2000, 2, Writes),
        ], After(Recvmsg, 5, 3, msg, 0));
    }

    [Fact]
    public void ExecveReadsThePathTheArrayEntriesAndTheStrings()
    {
        ulong path = _memory.String("/bin/echo"), a0 = _memory.String("echo"), a1 = _memory.String("hi"), e0 = _memory.String("A=1");
        ulong argv = _memory.Words(a0, a1, 0), envp = _memory.Words(e0, 0);
        Assert.Equal(
        [
            new R("execve(filename)", path, 10, Reads),
            new R("execve(argv)", argv, 24, Reads),
            new R("execve(argv[0])", a0, 5, Reads),
            new R("execve(argv[1])", a1, 3, Reads),
            new R("execve(envp)", envp, 16, Reads),
            new R("execve(envp[0])", e0, 4, Reads),
        ], Before(Execve, path, argv, envp));
        // A NULL path: one byte at 0 for the tool to report; NULL argv and envp are empty to Linux.
        Assert.Equal([new R("execve(filename)", 0, 1, Reads)], Before(Execve, 0, 0, 0));
        // An argv entry that points nowhere: its first byte.
        ulong bad = _memory.Words(0x20, 0);
        Assert.Equal([new R("execve(filename)", path, 10, Reads), new R("execve(argv)", bad, 16, Reads), new R("execve(argv[0])", 0x20, 1, Reads)],
            Before(Execve, path, bad, 0));
    }

    [Fact]
    public void AcceptReadsTheLengthPointerAndWritesTheAddressItsCapacityLong()
    {
        ulong length = _memory.Words(16);
        Assert.Equal([new R("accept(upeer_addrlen)", length, 4, Reads), new R("accept(upeer_sockaddr)", 0x6000, 16, Writes)],
            Before(Accept, 3, 0x6000, length));
        // A NULL address: the kernel ignores the length pointer too.
        Assert.Empty(Before(Accept, 3, 0, 0));
        // A bad length pointer: reported, and no address range derived from it.
        Assert.Equal([new R("accept(upeer_addrlen)", 0x30, 4, Reads)], Before(Accept, 3, 0x6000, 0x30));

        // The peer's address was 110 bytes (AF_UNIX): the kernel wrote 16 and says 110.
        var before = Before(Accept, 3, 0x6000, length);
        _memory.WriteUInt32(length, 110);
        Assert.Equal([new R("accept(upeer_addrlen)", length, 4, Writes), new R("accept(upeer_sockaddr)", 0x6000, 110, Writes)],
            After(Accept, 4, 3, 0x6000, length));
        var clipped = new List<R>();
        SyscallTable.After(Accept, [3, 0x6000, length], 4, _memory, before, clipped);
        Assert.Equal([new R("accept(upeer_addrlen)", length, 4, Writes), new R("accept(upeer_sockaddr)", 0x6000, 16, Writes)], clipped);
    }

    [Fact]
    public void ConnectReadsOnlyTheFieldsOfTheAddressFamily()
    {
        ulong inet = _memory.Allocate(16);
        _memory.WriteUInt16(inet, 2);
        Assert.Equal(
        [
            new R("connect(uservaddr.sa_family)", inet, 2, Reads),
            new R("connect(uservaddr.sin_port)", inet + 2, 2, Reads),
            new R("connect(uservaddr.sin_addr)", inet + 4, 4, Reads),
        ], Before(Connect, 3, inet, 16));
        ulong unix = _memory.Allocate(110);
        _memory.WriteUInt16(unix, 1);
        _memory.Write(unix + 2, "/tmp/sock\0"u8);
        Assert.Equal([new R("connect(uservaddr.sa_family)", unix, 2, Reads), new R("connect(uservaddr.sun_path)", unix + 2, 10, Reads)],
            Before(Connect, 3, unix, 110));
    }

    [Fact]
    public void StatReadsThePathAndWritesAStructStat()
    {
        ulong path = _memory.String("/etc/passwd");
        var expected = new List<R> { new("stat(filename)", path, 12, Reads), new("stat(statbuf)", 0x8000, 144, Writes) };
        Assert.Equal(expected, Before(Stat, path, 0x8000));
        Assert.Equal([new R("stat(statbuf)", 0x8000, 144, Writes)], After(Stat, 0, path, 0x8000));
        Assert.Empty(After(Stat, -2, path, 0x8000));
    }

    [Fact]
    public void Getdents64IsDefinedAsFarAsTheResult()
    {
        Assert.Equal([new R("getdents64(dirent)", 0x9000, 32768, Writes)], Before(Getdents64, 3, 0x9000, 32768));
        Assert.Equal([new R("getdents64(dirent)", 0x9000, 480, Writes)], After(Getdents64, 480, 3, 0x9000, 32768));
    }

    [Theory]
    [InlineData(0x5401u, "ioctl(TCGETS)", 36, KernelAccess.Writes)]
    [InlineData(0x5402u, "ioctl(TCSETS)", 36, KernelAccess.Reads)]
    [InlineData(0x5413u, "ioctl(TIOCGWINSZ)", 8, KernelAccess.Writes)]
    [InlineData(0x5414u, "ioctl(TIOCSWINSZ)", 8, KernelAccess.Reads)]
    [InlineData(0x541Bu, "ioctl(FIONREAD)", 4, KernelAccess.Writes)]
    [InlineData(0x5421u, "ioctl(FIONBIO)", 4, KernelAccess.Reads)]
    // _IOR('x', 1, 24): unknown, the encoding says the kernel writes 24 bytes.
    [InlineData(0x8018_7801u, "ioctl(generic)", 24, KernelAccess.Writes)]
    // _IOW('x', 2, 8): the kernel reads 8 bytes.
    [InlineData(0x4008_7802u, "ioctl(generic)", 8, KernelAccess.Reads)]
    public void IoctlRequestsNameTheirArgument(uint request, string parameter, ulong length, KernelAccess access)
    {
        Assert.Equal([new R(parameter, 0xA000, length, access)], Before(Ioctl, 1, request, 0xA000));
        var after = After(Ioctl, 0, 1, request, 0xA000);
        Assert.Equal(access == Writes ? [new R(parameter, 0xA000, length, Writes)] : [], after);
    }

    [Theory]
    [InlineData(0x540Bu)]           // TCFLSH: a scalar argument
    [InlineData(0x540Eu)]           // TIOCSCTTY
    [InlineData(0x0000_7803u)]      // _IO('x', 3): no direction, no size
    [InlineData(0x8000_7804u)]      // _IOR with size 0
    public void IoctlRequestsWithoutMemoryGiveNothing(uint request) => Assert.Empty(Before(Ioctl, 1, request, 0xA000));

    [Fact]
    public void AnUnknownSyscallGivesNothing()
    {
        Assert.Null(SyscallTable.Find(9999));
        Assert.Empty(Before(9999, 0x1000, 0x1000, 0x1000));
        Assert.Empty(After(9999, 0, 0x1000, 0x1000, 0x1000));
        // Known calls without memory parameters are still described, for their registers.
        Assert.Equal(["fd"], SyscallTable.Find(3)!.Arguments);
        Assert.Empty(Before(3, 0x1000));
    }

    [Fact]
    public void NanosleepRemainderIsWrittenOnlyWhenInterrupted()
    {
        Assert.Equal([new R("nanosleep(rqtp)", 0x1000, 16, Reads), new R("nanosleep(rmtp)", 0x2000, 16, Writes)], Before(Nanosleep, 0x1000, 0x2000));
        Assert.Empty(After(Nanosleep, 0, 0x1000, 0x2000));
        Assert.Equal([new R("nanosleep(rmtp)", 0x2000, 16, Writes)], After(Nanosleep, -4, 0x1000, 0x2000));
        Assert.Equal([new R("nanosleep(rqtp)", 0x1000, 16, Reads)], Before(Nanosleep, 0x1000, 0));
    }

    [Fact]
    public void Wait4WritesTheStatusOnlyWhenAChildWasReaped()
    {
        Assert.Equal([new R("wait4(stat_addr)", 0x1000, 4, Writes)], Before(Wait4, ulong.MaxValue, 0x1000, 1, 0));
        Assert.Empty(After(Wait4, 0, ulong.MaxValue, 0x1000, 1, 0));
        Assert.Equal([new R("wait4(stat_addr)", 0x1000, 4, Writes)], After(Wait4, 1234, ulong.MaxValue, 0x1000, 1, 0));
    }

    [Fact]
    public void PollReadsFdAndEventsAndWritesRevents()
    {
        Assert.Equal(
        [
            new R("poll(ufds[0])", 0x1000, 6, Reads), new R("poll(ufds[0].revents)", 0x1006, 2, Writes),
            new R("poll(ufds[1])", 0x1008, 6, Reads), new R("poll(ufds[1].revents)", 0x100E, 2, Writes),
        ], Before(Poll, 0x1000, 2, 100));
        Assert.Equal([new R("poll(ufds[0].revents)", 0x1006, 2, Writes), new R("poll(ufds[1].revents)", 0x100E, 2, Writes)], After(Poll, 0, 0x1000, 2, 100));
    }

    [Fact]
    public void FcntlLocksReadTheFlockFieldsAndGetLkWritesItBack()
    {
        var setlk = Before(Fcntl, 3, 6, 0x1000);
        Assert.Equal(["fcntl(arg.l_type)", "fcntl(arg.l_whence)", "fcntl(arg.l_start)", "fcntl(arg.l_len)"], setlk.Select(r => r.Parameter));
        Assert.Empty(After(Fcntl, 0, 3, 6, 0x1000));
        Assert.Equal([new R("fcntl(arg)", 0x1000, 32, Writes)], After(Fcntl, 0, 3, 5, 0x1000));
        Assert.Empty(Before(Fcntl, 3, 1, 0x1000));   // F_GETFD: arg is no pointer
        Assert.Equal(2, SyscallTable.Find(Fcntl)!.ArgumentsUsed([3, 1, 0]));
        Assert.Equal(3, SyscallTable.Find(Fcntl)!.ArgumentsUsed([3, 4, 0]));
    }

    [Fact]
    public void FutexReadsTheWordOnlyForOperationsThatCompareIt()
    {
        Assert.Empty(Before(Futex, 0x1000, 1 | 128, 1, 0, 0, 0));   // FUTEX_WAKE_PRIVATE
        Assert.Equal([new R("futex(uaddr)", 0x1000, 4, Reads)], Before(Futex, 0x1000, 0 | 128, 5, 0, 0, 0));
        Assert.Equal([new R("futex(uaddr)", 0x1000, 4, Reads), new R("futex(utime)", 0x2000, 16, Reads)], Before(Futex, 0x1000, 9, 5, 0x2000, 0, ~0UL));
        Assert.Equal(3, SyscallTable.Find(Futex)!.ArgumentsUsed([0x1000, 1, 1]));
    }

    [Fact]
    public void OpenUsesModeOnlyWhenCreating()
    {
        var open = SyscallTable.Find(Open)!;
        Assert.Equal(2, open.ArgumentsUsed([0x1000, 0, 0]));
        Assert.Equal(3, open.ArgumentsUsed([0x1000, 0x41, 0]));
    }

    [Fact]
    public void ARangeNeverWrapsPastTheEndOfTheAddressSpace()
    {
        var range = Assert.Single(Before(Write, 1, ulong.MaxValue - 3, 100));
        Assert.Equal(4UL, range.Length);
    }

    [Fact]
    public void LongIovecArraysAreWalkedToo()
    {
        var words = new ulong[200];
        for (int i = 0; i < 100; i++) (words[2 * i], words[2 * i + 1]) = (0x100000UL + (ulong)i * 0x100, 1);
        ulong vector = _memory.Words(words);
        var ranges = Before(Writev, 1, vector, 100);
        Assert.Equal(101, ranges.Count);
        Assert.Equal(new R("writev(vector[99])", 0x100000 + 99 * 0x100, 1, Reads), ranges[^1]);
        // More than UIO_MAXIOV: the kernel fails before reading anything.
        Assert.Empty(Before(Writev, 1, vector, 1025));
    }

    [Fact]
    public void SigactionReadsTheRestorerOnlyWhenItsFlagSaysSo()
    {
        const long RtSigaction = 13;
        ulong act = _memory.Words(0x401000, 0x0400_0000, 0x402000, 0);
        Assert.Equal(["rt_sigaction(act->sa_handler)", "rt_sigaction(act->sa_flags)", "rt_sigaction(act->sa_restorer)", "rt_sigaction(act->sa_mask)", "rt_sigaction(oact)"],
            Before(RtSigaction, 2, act, 0x9000, 8).Select(r => r.Parameter));
        ulong plain = _memory.Words(0x401000, 0, 0, 0);
        Assert.Equal(["rt_sigaction(act->sa_handler)", "rt_sigaction(act->sa_flags)", "rt_sigaction(act->sa_mask)"],
            Before(RtSigaction, 2, plain, 0, 8).Select(r => r.Parameter));
        Assert.Equal([new R("rt_sigaction(oact)", 0x9000, 32, Writes)], After(RtSigaction, 0, 2, 0, 0x9000, 8));
    }

    [Fact]
    public void EpollCtlReadsOnlyTheEventsFieldAndOnlyWhenAddingOrModifying()
    {
        const long EpollCtl = 233;
        Assert.Equal([new R("epoll_ctl(event.events)", 0x1000, 4, Reads)], Before(EpollCtl, 4, 1, 5, 0x1000));
        Assert.Empty(Before(EpollCtl, 4, 2, 5, 0x1000));
        const long EpollWait = 232;
        Assert.Equal([new R("epoll_wait(events)", 0x2000, 120, Writes)], Before(EpollWait, 4, 0x2000, 10, ulong.MaxValue));
        Assert.Equal([new R("epoll_wait(events)", 0x2000, 24, Writes)], After(EpollWait, 2, 4, 0x2000, 10, ulong.MaxValue));
    }

    [Fact]
    public void SelectFdSetsAreWholeLongsReadAndWrittenBack()
    {
        const long Select = 23;
        Assert.Equal([new R("select(inp)", 0x1000, 8, Reads), new R("select(tvp)", 0x3000, 16, Reads)], Before(Select, 5, 0x1000, 0, 0, 0x3000));
        Assert.Equal([new R("select(inp)", 0x1000, 16, Reads), new R("select(exp)", 0x2000, 16, Reads)], Before(Select, 65, 0x1000, 0, 0x2000, 0));
        Assert.Equal([new R("select(inp)", 0x1000, 8, Writes), new R("select(tvp)", 0x3000, 16, Writes)], After(Select, 1, 5, 0x1000, 0, 0, 0x3000));
    }

    [Fact]
    public void GetsockoptAlwaysReadsItsLengthPointer()
    {
        const long Getsockopt = 55;
        ulong length = _memory.Words(4);
        Assert.Equal([new R("getsockopt(optlen)", length, 4, Reads), new R("getsockopt(optval)", 0x1000, 4, Writes)], Before(Getsockopt, 3, 1, 4, 0x1000, length));
        Assert.Equal([new R("getsockopt(optlen)", 0, 4, Reads)], Before(Getsockopt, 3, 1, 4, 0, 0));
    }
}
