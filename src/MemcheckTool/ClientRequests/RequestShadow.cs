using System.Runtime.Versioning;
using Checker.Engine.Memory;
using Checker.Shadow;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// The shadow as client requests see it. Requests name any range the program likes, so changes are
/// kept to what the guest has mapped: the shadow of memcheck's own memory is PROT_NONE and a wild
/// range must not fault in memcheck, a huge one must not make memcheck write terabytes of shadow,
/// and memory mapped later starts clean. A byte counts as addressable only when the guest has it
/// mapped (not PROT_NONE) and the shadow does not say unaddressable: memory no one mapped is as
/// unaddressable to VALGRIND_CHECK_MEM_IS_ADDRESSABLE as it is to Valgrind.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class RequestShadow(ShadowMemory shadow, GuestMappings mappings)
{
    public ShadowMemory Shadow => shadow;

    /// <summary>Sets [start, start + length) to <paramref name="state"/> where the guest may have memory.</summary>
    public void Set(ulong start, ulong length, ShadowState state)
    {
        foreach ((ulong from, ulong to) in GuestParts(start, length))
        {
            shadow.Set(from, to - from, state);
            if (state == ShadowState.Undefined) MadeUndefined?.Invoke(from, to - from);
        }
    }

    /// <summary>The program made [start, start + length) undefined (a global's page is then checked: <see cref="Definedness.GlobalTaint"/>).</summary>
    public Action<ulong, ulong>? MadeUndefined { get; set; }

    /// <summary>Every byte of the range that is addressable becomes defined; unaddressable ones stay so.</summary>
    public void DefineIfAddressable(ulong start, ulong length)
    {
        foreach ((ulong from, ulong to) in GuestParts(start, length))
        {
            ulong a = from;
            while (a < to && shadow.FirstNot(a, to - a, ShadowState.Defined) is { } found)
            {
                ulong runEnd = shadow.FirstNot(found.Address, to - found.Address, found.State)?.Address ?? to;
                if (found.State != ShadowState.Unaddressable) shadow.Set(found.Address, runEnd - found.Address, ShadowState.Defined);
                a = runEnd;
            }
        }
    }

    /// <summary>The first byte of the range the program may not touch, or null.</summary>
    public ulong? FirstUnaddressable(ulong start, ulong length)
    {
        ulong end = End(start, length);
        ulong a = start;
        while (a < end)
        {
            if (mappings.RangeAt(a) is not (ulong _, ulong mappedEnd) || mappings.ProtectionAt(a) == 0) return a;
            ulong to = Math.Min(end, mappedEnd);
            if (FirstIn(a, to, s => s == ShadowState.Unaddressable) is ulong bad) return bad;
            a = to;
        }
        return null;
    }

    /// <summary>The first addressable byte of the range with an undefined bit, or null.</summary>
    public ulong? FirstUndefined(ulong start, ulong length)
    {
        foreach ((ulong from, ulong to) in GuestParts(start, length))
            if (FirstIn(from, to, s => s is ShadowState.Undefined or ShadowState.BitLevel) is ulong bad) return bad;
        return null;
    }

    /// <summary>The first byte of [from, to) whose state <paramref name="wanted"/> accepts, a run of one state at a time.</summary>
    private ulong? FirstIn(ulong from, ulong to, Func<ShadowState, bool> wanted)
    {
        ulong a = from;
        while (a < to && shadow.FirstNot(a, to - a, ShadowState.Defined) is { } found)
        {
            if (wanted(found.State)) return found.Address;
            a = shadow.FirstNot(found.Address, to - found.Address, found.State)?.Address ?? to;
        }
        return null;
    }

    private static ulong End(ulong start, ulong length) => start + length < start ? ulong.MaxValue : start + length;

    /// <summary>The parts of the range the guest has mapped, in address order.</summary>
    private IEnumerable<(ulong From, ulong To)> GuestParts(ulong start, ulong length)
    {
        ulong end = Math.Min(End(start, length), AddressSpaceLayout.HostRegionStart);
        ulong a = start;
        while (a < end)
        {
            if (mappings.RangeAt(a) is (ulong _, ulong mappedEnd))
            {
                ulong to = Math.Min(end, mappedEnd);
                yield return (a, to);
                a = to;
                continue;
            }
            // A hole (rare: a request about memory no one mapped): on at the next mapping, if any.
            ulong next = 0;
            foreach ((ulong mappedStart, ulong _, int _) in mappings.Ranges)
                if (mappedStart > a) { next = mappedStart; break; }
            if (next == 0 || next >= end) yield break;
            a = next;
        }
    }
}
