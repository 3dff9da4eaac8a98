using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.Engine.Memory;

/// <summary>
/// The guest's program break, emulated over a private PROT_NONE reservation: the real brk belongs to
/// the host process. Growth makes pages read/write; shrinking replaces them with fresh zero pages.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class GuestBrk
{
    private readonly ulong _start;
    private readonly ulong _limit;
    private ulong _current;

    public GuestBrk(ulong start, ulong reservation)
    {
        _start = HostMemory.MapAnonymous(start, reservation, LibC.ProtNone, noReserve: true);
        _limit = _start + reservation;
        _current = _start;
    }

    public ulong Current => _current;

    /// <summary>brk(2) semantics: returns the new break, or the old one when the request cannot be met.</summary>
    public ulong Set(ulong requested)
    {
        if (requested < _start || requested > _limit) return _current;
        ulong oldTop = HostMemory.PageUp(_current), newTop = HostMemory.PageUp(requested);
        if (newTop > oldTop)
            HostMemory.Protect(oldTop, newTop - oldTop, LibC.ProtRead | LibC.ProtWrite);
        else if (newTop < oldTop)
            LibC.mmap((nint)newTop, (nuint)(oldTop - newTop), LibC.ProtNone,
                LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixed | LibC.MapNoReserve, -1, 0);
        _current = requested;
        return _current;
    }
}
