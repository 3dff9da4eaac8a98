using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.Engine.CodeCache;

/// <summary>
/// One bit per application byte address modulo 16 MB, set where a fragment (of any mode) was ever
/// entered: a clear bit proves no fragment starts there, without the pc index. The translator asks at
/// every instruction it decodes whether the next one is a fragment's entry (a block ends there), and
/// nearly always it is not: through the index that was a hash probe into cold memory each time (2.9%
/// of cc1plus's run); here the bits of a block's 512 bytes share a cache line. Bits are never
/// cleared (a flushed fragment's bit only sends a query on to the index), so no lock is needed for
/// correctness beyond the cache's own.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EntryFilter
{
    private const int AddressBits = 24;
    private const ulong Mask = (1UL << AddressBits) - 1;
    // Untouched pages cost nothing (a small program sets bits in a few of them).
    private readonly ulong* _bits = (ulong*)HostMemory.MapAnonymous(0, (1UL << AddressBits) / 8, LibC.ProtRead | LibC.ProtWrite, noReserve: true);

    public void Add(ulong pc)
    {
        ulong bit = pc & Mask;
        _bits[bit >> 6] |= 1UL << (int)(bit & 63);
    }

    /// <summary>False when no fragment has its entry at <paramref name="pc"/>; true when one may.</summary>
    public bool MayContain(ulong pc)
    {
        ulong bit = pc & Mask;
        return (_bits[bit >> 6] & (1UL << (int)(bit & 63))) != 0;
    }
}
