using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>Anonymous mappings for host-owned regions (code cache, context blocks, tables).</summary>
[SupportedOSPlatform("linux")]
public static class HostMemory
{
    public const ulong PageSize = 4096;

    public static ulong PageDown(ulong a) => a & ~(PageSize - 1);
    public static ulong PageUp(ulong a) => (a + PageSize - 1) & ~(PageSize - 1);

    /// <summary>Maps anonymous memory at exactly <paramref name="address"/> (0: anywhere).</summary>
    public static ulong MapAnonymous(ulong address, ulong size, int prot, bool noReserve = false)
    {
        int flags = LibC.MapPrivate | LibC.MapAnonymous | (noReserve ? LibC.MapNoReserve : 0);
        if (address != 0) flags |= LibC.MapFixedNoReplace;
        nint r = LibC.mmap((nint)address, (nuint)size, prot, flags, -1, 0);
        if (r == LibC.MapFailed || (address != 0 && (ulong)r != address))
        {
            int errno = Marshal.GetLastPInvokeError();
            // A reservation this large fails under ulimit -v: say so, as the shadow's reservation does.
            string why = errno == 12 && HostLimits.AddressSpaceLimit() is ulong limit
                ? $" (the virtual memory limit, ulimit -v, is {limit >> 10:N0} KB: memcheck reserves tens of GiB of address space and needs it unlimited; a limit the program sets for itself is kept as its own)"
                : "";
            throw new EngineException($"cannot map {size:N0} bytes at 0x{address:x}: errno {errno}{why}");
        }
        return (ulong)r;
    }

    /// <summary>Gives the pages of a private anonymous range back to the kernel: they read as zeros again.</summary>
    public static bool Discard(ulong address, ulong size) => LibC.madvise((nint)address, (nuint)size, LibC.MadvDontNeed) == 0;

    /// <summary>
    /// Faults in a range about to be written in one call (MADV_POPULATE_WRITE): on a PVM guest kernel
    /// a page fault costs ~10 us, a populated page ~0.6 us. Best effort: before Linux 5.14, or if
    /// memory is short, the pages fault in one by one as they are touched.
    /// </summary>
    public static void Populate(ulong address, ulong size)
    {
        ulong from = PageDown(address), to = PageUp(address + size);
        if (to > from) LibC.madvise((nint)from, (nuint)(to - from), LibC.MadvPopulateWrite);
    }

    public static void Protect(ulong address, ulong size, int prot)
    {
        if (LibC.mprotect((nint)address, (nuint)size, prot) != 0)
            throw new EngineException($"mprotect 0x{address:x}+{size:x} failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
