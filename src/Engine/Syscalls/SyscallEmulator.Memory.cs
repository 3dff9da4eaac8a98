using System.Runtime.Versioning;
using Checker.Engine.Memory;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>Memory-map system calls: keep code in reach of the cache and translated code consistent.</summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong ProtWrite = 2, ProtExec = 4, MapFixed = 0x10, MapFixedNoReplace = 0x100000, MapAnonymous = 0x20, Map32Bit = 0x40;

    private long Mmap(SyscallRequest r)
    {
        bool replaces = (r.A4 & (MapFixed | MapFixedNoReplace)) == MapFixed;
        if (RefusedByLimit(HostMemory.PageUp(r.A2), replaces ? _process.Mappings.MappedBytesIn(r.A1, r.A2) : 0)) return -Errno.ENOMEM;
        long result = MapMemory(r);
        if (KernelInterface.IsError(result)) return result;
        _process.Mappings.Map((ulong)result, r.A2, (int)(r.A3 & 7));
        bool anonymous = (r.A4 & MapAnonymous) != 0;
        if (anonymous) _process.RememberAnonymous((ulong)result, (ulong)result + HostMemory.PageUp(r.A2));
        _process.Tool.OnMemoryMapped((ulong)result, HostMemory.PageUp(r.A2), (int)(r.A3 & 7), anonymous);
        NoticeModule(r, result);
        return result;
    }

    private long MapMemory(SyscallRequest r)
    {
        ulong length = HostMemory.PageUp(r.A2);
        bool fixedAddress = (r.A4 & MapFixed) != 0, noReplace = (r.A4 & MapFixedNoReplace) != 0;
        if ((fixedAddress || noReplace) && _process.OverlapsToolMemory(r.A1, length)) return fixedAddress ? -Errno.EINVAL : -Errno.EEXIST;
        if (!fixedAddress && !noReplace && length != 0 && (r.A4 & Map32Bit) == 0)
        {
            if (r.A1 == 0 && MayHoldCode(r))
            {
                // Steer into the code window so RIP-relative code stays in rel32 reach of the cache.
                for (ulong? at = _process.CodeWindow.Candidate(length); at is ulong hint; at = _process.CodeWindow.Candidate(length))
                {
                    long result = PassThrough(r with { A1 = hint, A4 = r.A4 | MapFixedNoReplace });
                    if (result != -Errno.EEXIST)
                    {
                        if (!KernelInterface.IsError(result)) _process.CodeWindow.Consume(hint, length);
                        return result;
                    }
                    _process.CodeWindow.NoteOccupied(hint, length, MappedRegions.Read());
                }
            }
            // The guest's own hint, when it is in the guest's region and free, as the kernel would honour it.
            if (r.A1 != 0 && r.A1 % HostMemory.PageSize == 0 && r.A1 + length <= Memory.AddressSpaceLayout.HostRegionStart)
            {
                long result = PassThrough(r with { A4 = r.A4 | MapFixedNoReplace });
                if (result != -Errno.EEXIST) return result;
            }
            return PlaceInGuestRegion(r, length);
        }
        long mapped = PassThrough(r);
        if (!KernelInterface.IsError(mapped) && (r.A4 & MapFixed) != 0)
            lock (_process.Cache.Lock) _process.Cache.FlushChangedCode((ulong)mapped, (ulong)mapped + length);
        return mapped;
    }

    /// <summary>
    /// A mapping that names no address goes where the engine's allocator says, in the guest's region
    /// (never among memcheck's own mappings, where the kernel would put it).
    /// </summary>
    private long PlaceInGuestRegion(SyscallRequest r, ulong length)
    {
        while (_process.Addresses.FindFree(length) is ulong at)
        {
            long result = PassThrough(r with { A1 = at, A4 = r.A4 | MapFixedNoReplace });
            if (result != -Errno.EEXIST) return result;
            _process.Addresses.Taken(at, length);
        }
        return -Errno.ENOMEM;
    }

    /// <summary>A whole ELF file mapped from offset 0 is a module being loaded: find its replaced functions.</summary>
    private void NoticeModule(in SyscallRequest r, long mapped)
    {
        if (KernelInterface.IsError(mapped) || (r.A4 & MapAnonymous) != 0 || (long)r.A5 < 0 || r.A6 != 0) return;
        if (!IsElfFile((long)r.A5)) return;
        string? path = LinkTarget($"/proc/self/fd/{(long)r.A5}");
        if (path != null) _process.ModuleMapped(path, (ulong)mapped);
    }

    private bool IsElfFile(long fd)
    {
        uint magic = 0;
        long n = _process.Kernel.Call(SyscallNumbers.Pread64, fd, (long)&magic, 4, 0);
        return n == 4 && magic == 0x464c457f;
    }

    private static string? LinkTarget(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (IOException) { return null; }
    }

    /// <summary>Executable anonymous memory, or a file that is an ELF image (ld.so mapping a library).</summary>
    private bool MayHoldCode(in SyscallRequest r)
    {
        if ((r.A3 & ProtExec) != 0) return true;
        if ((r.A4 & MapAnonymous) != 0 || (long)r.A5 < 0) return false;
        return IsElfFile((long)r.A5);
    }

    private long Munmap(SyscallRequest r)
    {
        if (_process.OverlapsToolMemory(r.A1, HostMemory.PageUp(r.A2))) return -Errno.EINVAL;
        long result = PassThrough(r);
        if (result == 0)
        {
            FlushCode(r.A1, r.A2);
            _process.Mappings.Unmap(r.A1, r.A2);
            _process.CodeWindow.Release(r.A1, HostMemory.PageUp(r.A2));
        }
        return result;
    }

    private long Mprotect(SyscallRequest r)
    {
        if (_process.OverlapsToolMemory(r.A1, HostMemory.PageUp(r.A2), protectOnly: true)) return -Errno.EINVAL;
        long result = PassThrough(r);
        if (result == 0)
        {
            // PROT_GROWSDOWN/GROWSUP (high bits) extend to the whole stack vma: the low bits are the protection.
            _process.Mappings.Protect(r.A1, r.A2, (int)(r.A3 & 7));
            if ((r.A3 & ProtExec) == 0) FlushCode(r.A1, r.A2);
            // Still executable but now writable: what was translated from its read-only slots goes.
            else if ((r.A3 & ProtWrite) != 0) lock (_process.Cache.Lock) _process.Cache.FlushSlotReaders(r.A1, r.A1 + HostMemory.PageUp(r.A2));
            _process.Tool.OnMemoryProtected(r.A1, HostMemory.PageUp(r.A2), (int)(r.A3 & 7));
        }
        return result;
    }

    private long Mremap(SyscallRequest r)
    {
        const ulong MremapMayMove = 1, MremapFixed = 2, MremapDontUnmap = 4;
        if (_process.OverlapsToolMemory(r.A1, HostMemory.PageUp(r.A2)) ||
            ((r.A4 & MremapFixed) != 0 && _process.OverlapsToolMemory(r.A5, HostMemory.PageUp(r.A3))))
            return -Errno.EINVAL;
        ulong oldLength = HostMemory.PageUp(r.A2), newLength = HostMemory.PageUp(r.A3);
        if (newLength > oldLength && RefusedByLimit((r.A4 & MremapDontUnmap) != 0 ? newLength : newLength - oldLength, 0)) return -Errno.ENOMEM;
        long result;
        if ((r.A4 & MremapMayMove) != 0 && (r.A4 & MremapFixed) == 0)
        {
            // Grow in place if the kernel can; else move, but to a place in the guest's region.
            result = (r.A4 & MremapDontUnmap) != 0 ? -Errno.ENOMEM : PassThrough(r with { A4 = r.A4 & ~MremapMayMove });
            if (result == -Errno.ENOMEM) result = MoveInGuestRegion(r, HostMemory.PageUp(r.A3));
        }
        else result = PassThrough(r);
        if (!KernelInterface.IsError(result))
        {
            FlushCode(r.A1, r.A2);
            if ((r.A4 & MremapDontUnmap) != 0) _process.Mappings.Map((ulong)result, r.A3, _process.Mappings.ProtectionAt(r.A1) ?? 3);
            else _process.Mappings.Move(r.A1, r.A2, (ulong)result, r.A3);
            _process.Tool.OnMemoryRemapped(r.A1, HostMemory.PageUp(r.A2), (ulong)result, HostMemory.PageUp(r.A3));
        }
        return result;
    }

    /// <summary>Whether <paramref name="length"/> bytes more, less <paramref name="replaced"/> bytes a fixed mapping replaces, pass the program's RLIMIT_AS.</summary>
    private bool RefusedByLimit(ulong length, ulong replaced) =>
        length > replaced && _process.MemoryLimits.Refuses(_process.Mappings.MappedBytes, length - replaced);

    /// <summary>mremap that must move: to a free range of the guest's region, claimed first so nothing unknown is replaced.</summary>
    private long MoveInGuestRegion(SyscallRequest r, ulong length)
    {
        const ulong MremapMayMove = 1, MremapFixed = 2;
        while (_process.Addresses.FindFree(length) is ulong at)
        {
            long placeholder = _process.Kernel.Call(SyscallNumbers.Mmap, at, length, 0, 0x22 | MapFixedNoReplace | 0x4000, unchecked((ulong)-1), 0);
            if (placeholder == -Errno.EEXIST) { _process.Addresses.Taken(at, length); continue; }
            if (KernelInterface.IsError(placeholder)) return placeholder;
            long moved = PassThrough(r with { A4 = r.A4 | MremapMayMove | MremapFixed, A5 = at });
            if (KernelInterface.IsError(moved)) _process.Kernel.Call(SyscallNumbers.Munmap, at, length);
            return moved;
        }
        return -Errno.ENOMEM;
    }

    private void FlushCode(ulong start, ulong length)
    {
        lock (_process.Cache.Lock) _process.Cache.FlushChangedCode(start, start + HostMemory.PageUp(length));
    }

    private long MunmapAndForget(SyscallRequest r)
    {
        long result = Munmap(r);
        if (result == 0)
        {
            _process.ModuleRangeUnmapped(r.A1, r.A1 + HostMemory.PageUp(r.A2));
            _process.ForgetAnonymous(r.A1, r.A1 + HostMemory.PageUp(r.A2));
            _process.Tool.OnMemoryUnmapped(r.A1, r.A1 + HostMemory.PageUp(r.A2));
        }
        return result;
    }
}
