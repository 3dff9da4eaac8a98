using Checker.Engine.Memory;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// System V shared memory: shmat maps a segment like mmap does, so one with no address given is
/// placed in the guest's region as a non-fixed mmap is (the kernel would put it among memcheck's
/// own mappings, where every checked access faults), and both shmat and shmdt keep
/// <see cref="GuestMappings"/> true.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong ShmRdonly = 0x1000, ShmRnd = 0x2000, ShmExec = 0x8000;
    private const int IpcStat = 2, ShmSegszOffset = 48, ShmidDsSize = 112;

    // shmdt takes only the address: the size each attachment had.
    private readonly Dictionary<ulong, ulong> _shmSizes = [];

    private long Shmat(SyscallRequest r)
    {
        if (SegmentSize((long)r.A1) is not ulong size) return PassThrough(r);   // the kernel's own error
        if (RefusedByLimit(size, 0)) return -Errno.ENOMEM;
        long result;
        if (r.A2 != 0) result = PassThrough(r);
        else
        {
            result = -Errno.ENOMEM;
            while (_process.Addresses.FindFree(size) is ulong at)
            {
                // Nothing may be there already: shmat without SHM_REMAP fails with EINVAL over a mapping.
                result = PassThrough(r with { A2 = at, A3 = r.A3 & ~ShmRnd });
                if (result != -Errno.EINVAL) break;
                _process.Addresses.Taken(at, size);
            }
        }
        if (KernelInterface.IsError(result)) return result;
        int prot = GuestMappings.Read | ((r.A3 & ShmRdonly) == 0 ? GuestMappings.Write : 0) | ((r.A3 & ShmExec) != 0 ? GuestMappings.Exec : 0);
        _process.Mappings.Map((ulong)result, size, prot);
        lock (_shmSizes) _shmSizes[(ulong)result] = size;
        _process.Tool.OnMemoryMapped((ulong)result, size, prot, anonymous: false);
        return result;
    }

    private long Shmdt(SyscallRequest r)
    {
        long result = PassThrough(r);
        ulong size;
        lock (_shmSizes)
            if (result != 0 || !_shmSizes.Remove(r.A1, out size)) return result;
        FlushCode(r.A1, size);
        _process.Mappings.Unmap(r.A1, size);
        _process.Tool.OnMemoryUnmapped(r.A1, r.A1 + size);
        return result;
    }

    /// <summary>shm_segsz of the segment, page-rounded, or null when IPC_STAT fails (shmat will fail the same way).</summary>
    private ulong? SegmentSize(long id)
    {
        byte* ds = stackalloc byte[ShmidDsSize];
        if (_process.Kernel.Call(SyscallNumbers.Shmctl, id, IpcStat, (long)ds) != 0) return null;
        return HostMemory.PageUp(*(ulong*)(ds + ShmSegszOffset));
    }
}
