using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>Memory-map system calls: keep code in reach of the cache and translated code consistent.</summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong ProtExec = 4, MapFixed = 0x10, MapFixedNoReplace = 0x100000, MapAnonymous = 0x20;

    private long Mmap(SyscallRequest r)
    {
        ulong length = HostMemory.PageUp(r.A2);
        bool placed = r.A1 != 0 || (r.A4 & (MapFixed | MapFixedNoReplace)) != 0;
        if (!placed && length != 0 && MayHoldCode(r))
        {
            // Steer into the code window so RIP-relative code stays in rel32 reach of the cache.
            for (ulong? at = _process.CodeWindow.Candidate(length); at is ulong hint; at = _process.CodeWindow.Candidate(length))
            {
                long result = PassThrough(r with { A1 = hint, A4 = r.A4 | MapFixedNoReplace });
                _process.CodeWindow.Consume(hint, length);
                if (result != -Errno.EEXIST) return result;
            }
        }
        long mapped = PassThrough(r);
        if (!KernelInterface.IsError(mapped) && (r.A4 & MapFixed) != 0)
            _process.Cache.Flush((ulong)mapped, (ulong)mapped + length);
        return mapped;
    }

    /// <summary>Executable anonymous memory, or a file that is an ELF image (ld.so mapping a library).</summary>
    private bool MayHoldCode(in SyscallRequest r)
    {
        if ((r.A3 & ProtExec) != 0) return true;
        if ((r.A4 & MapAnonymous) != 0 || (long)r.A5 < 0) return false;
        uint magic = 0;
        long n = _process.Kernel.Call(SyscallNumbers.Pread64, (long)r.A5, (long)&magic, 4, 0);
        return n == 4 && magic == 0x464c457f;
    }

    private long Munmap(SyscallRequest r)
    {
        long result = PassThrough(r);
        if (result == 0) FlushCode(r.A1, r.A2);
        return result;
    }

    private long Mprotect(SyscallRequest r)
    {
        long result = PassThrough(r);
        if (result == 0 && (r.A3 & ProtExec) == 0) FlushCode(r.A1, r.A2);
        return result;
    }

    private long Mremap(SyscallRequest r)
    {
        long result = PassThrough(r);
        if (!KernelInterface.IsError(result)) FlushCode(r.A1, r.A2);
        return result;
    }

    private void FlushCode(ulong start, ulong length)
    {
        lock (_process.Cache.Lock) _process.Cache.Flush(start, start + HostMemory.PageUp(length));
    }
}
