using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// Descriptor system calls: memcheck's own descriptors (its report stream, the guest executable's,
/// the files its symbolizer reads; see <see cref="DescriptorRange"/>) cannot be closed or replaced
/// by the guest, and the guest's RLIMIT_NOFILE stays below them.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private long Close(SyscallRequest r)
    {
        if (_process.IsToolDescriptor(r.A1)) return -Errno.EBADF;
        long result = PassThrough(r);
        if (result == 0)
        {
            _process.Descriptors?.GuestClosed(r.A1);
            _process.Signals.Fds.Closed((int)r.A1);
        }
        return result;
    }

    /// <summary>dup2/dup3 onto one of ours: EBADF, as for a descriptor the guest does not have.</summary>
    private long DupOnto(SyscallRequest r) => _process.IsToolDescriptor((uint)r.A2) ? -Errno.EBADF : PassThrough(r);

    /// <summary>close_range over memcheck's descriptors closes the pieces around them.</summary>
    private long CloseRange(SyscallRequest r)
    {
        // The kernel takes unsigned ints: the upper halves of the registers do not count.
        ulong first = (uint)r.A1, last = (uint)r.A2;
        if (first > last) return -Errno.EINVAL;
        foreach ((ulong toolFirst, ulong toolLast) in ToolIntervals())
        {
            if (toolLast < first || toolFirst > last) continue;
            if (toolFirst > first)
            {
                long result = CloseGuestPiece(r, first, toolFirst - 1);
                if (result != 0) return result;
            }
            if (toolLast >= last) return 0;
            first = toolLast + 1;
        }
        return CloseGuestPiece(r, first, last);
    }

    private long CloseGuestPiece(in SyscallRequest r, ulong first, ulong last)
    {
        long result = PassThrough(r with { A1 = first, A2 = last });
        if (result == 0) ForgetInherited(first, last);
        return result;
    }

    private void ForgetInherited(ulong first, ulong last)
    {
        if (_process.Descriptors is not DescriptorRange range) return;
        for (ulong fd = Math.Max(first, (ulong)range.Start); fd <= last && fd < (ulong)range.End; fd++) range.GuestClosed(fd);
    }

    /// <summary>memcheck's descriptors as ascending inclusive intervals: the range's and the single ones.</summary>
    private List<(ulong First, ulong Last)> ToolIntervals()
    {
        var intervals = _process.ToolDescriptors.Select(fd => ((ulong)fd, (ulong)fd)).ToList();
        if (_process.Descriptors is DescriptorRange range) intervals.AddRange(range.ToolIntervals());
        intervals.Sort();
        return intervals;
    }

    /// <summary>getrlimit(resource, rlim): RLIMIT_NOFILE is the guest's view.</summary>
    private long Getrlimit(SyscallRequest r) =>
        (r.A1 == DescriptorRange.RlimitNofile && _process.Descriptors != null) || MemoryLimits.Covers(r.A1)
            ? Prlimit64(new SyscallRequest(SyscallNumbers.Prlimit64, 0, r.A1, 0, r.A2, 0, 0))
            : PassThrough(r);

    /// <summary>setrlimit(resource, rlim): RLIMIT_NOFILE within the guest's view.</summary>
    private long Setrlimit(SyscallRequest r) =>
        (r.A1 == DescriptorRange.RlimitNofile && _process.Descriptors != null) || MemoryLimits.Covers(r.A1)
            ? Prlimit64(new SyscallRequest(SyscallNumbers.Prlimit64, 0, r.A1, r.A2, 0, 0, 0))
            : PassThrough(r);

    /// <summary>prlimit64(pid, resource, new, old) of this process's RLIMIT_NOFILE: the guest's view, read and changed.</summary>
    private long Prlimit64(SyscallRequest r)
    {
        bool own = r.A1 == 0 || r.A1 == (ulong)LibC.getpid();
        if (own && MemoryLimits.Covers((uint)r.A2)) return MemoryLimit(r);
        if (!own || (uint)r.A2 != DescriptorRange.RlimitNofile || _process.Descriptors is not DescriptorRange range) return PassThrough(r);
        ulong* requested = stackalloc ulong[2];
        if (r.A3 != 0)
        {
            // The kernel reads the new limits first: a bad pointer fails the call before anything changes.
            if (!GuestMemory.TryRead(r.A3, new Span<byte>(requested, 16))) return -Errno.EFAULT;
        }
        if (r.A4 != 0)
        {
            // The real call proves the buffer writable (EFAULT as the kernel gives it), then it gets the guest's view.
            long result = PassThrough(r with { A1 = 0, A3 = 0 });
            if (result != 0) return result;
            ((ulong*)r.A4)[0] = range.GuestSoft;
            ((ulong*)r.A4)[1] = range.GuestHard;
        }
        return r.A3 == 0 ? 0 : range.GuestSet(_process.Kernel, requested[0], requested[1]);
    }

    /// <summary>prlimit64 of this process's RLIMIT_AS or RLIMIT_DATA: the program's own view (<see cref="MemoryLimits"/>).</summary>
    private long MemoryLimit(SyscallRequest r)
    {
        ulong* requested = stackalloc ulong[2];
        if (r.A3 != 0 && !GuestMemory.TryRead(r.A3, new Span<byte>(requested, 16))) return -Errno.EFAULT;
        var (soft, hard) = _process.MemoryLimits.Get((uint)r.A2);
        if (r.A4 != 0)
        {
            ulong* old = stackalloc ulong[2] { soft, hard };
            if (!GuestMemory.TryWrite(r.A4, new ReadOnlySpan<byte>(old, 16))) return -Errno.EFAULT;
        }
        if (r.A3 == 0) return 0;
        bool privileged = _process.Kernel.Call(107 /* geteuid */) == 0;
        return _process.MemoryLimits.Set((uint)r.A2, requested[0], requested[1], privileged);
    }
}
