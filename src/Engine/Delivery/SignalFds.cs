using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Delivery;

/// <summary>
/// signalfd for the guest: signals for the guest never stay pending in the kernel (guest threads
/// block them all; they reach memcheck's queues), so a kernel signalfd would never be readable.
/// Instead the guest gets the read end of a pipe, and a signal in its mask that its target blocks
/// is written there as the kernel's 128-byte signalfd_siginfo rather than queued: read, poll and
/// epoll see what they would natively.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class SignalFds(GuestProcess process)
{
    private const int SfdNonblock = 0x800, SfdCloexec = 0x80000;
    private const int FDupfd = 0, FDupfdCloexec = 1030, FGetfl = 3, FSetfl = 4, ONonblock = 0x800;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, (ulong Mask, int WriteFd)> _fds = new();

    /// <summary>signalfd/signalfd4: a new descriptor (fd -1) or a new mask for one of ours.</summary>
    public long Create(int fd, ulong mask, int flags)
    {
        if ((flags & ~(SfdNonblock | SfdCloexec)) != 0) return -Errno.EINVAL;
        lock (_lock)
        {
            if (fd != -1)
            {
                if (!_fds.TryGetValue(fd, out var existing)) return -Errno.EINVAL;
                _fds[fd] = (mask, existing.WriteFd);
                return fd;
            }
        }
        int* ends = stackalloc int[2];
        if (LibC.pipe2(ends, ONonblock | 0x80000 /* O_CLOEXEC */) != 0) return -Errno.ENOMEM;
        // The read end is the guest's: the lowest free descriptor, as signalfd's would be.
        long guestFd = process.GuestKernel.Call(72 /* fcntl */, ends[0], (flags & SfdCloexec) != 0 ? FDupfdCloexec : FDupfd, 0);
        LibC.close(ends[0]);
        if (guestFd < 0)
        {
            LibC.close(ends[1]);
            return guestFd;
        }
        if ((flags & SfdNonblock) == 0)
        {
            long status = process.Kernel.Call(72, guestFd, FGetfl);
            process.Kernel.Call(72, guestFd, FSetfl, status & ~ONonblock);
        }
        lock (_lock) _fds[(int)guestFd] = (mask, ends[1]);
        return guestFd;
    }

    /// <summary>The guest closed <paramref name="fd"/>: if it was a signalfd, the pipe's other end goes too.</summary>
    public void Closed(int fd)
    {
        lock (_lock)
        {
            if (!_fds.Remove(fd, out var entry)) return;
            LibC.close(entry.WriteFd);
        }
    }

    /// <summary>Writes <paramref name="info"/> to a signalfd whose mask has it; false when none has.</summary>
    public bool TryPost(in SignalInfo info)
    {
        ulong bit = 1UL << (info.Signal - 1);
        lock (_lock)
        {
            foreach ((ulong mask, int writeFd) in _fds.Values)
            {
                if ((mask & bit) == 0) continue;
                byte* record = stackalloc byte[128];
                info.WriteSignalfdInfo(new Span<byte>(record, 128));
                LibC.write(writeFd, record, 128);
                return true;
            }
            return false;
        }
    }

    public bool Any
    {
        get { lock (_lock) return _fds.Count > 0; }
    }
}
