namespace Checker.Engine.Memory;

/// <summary>
/// Chooses addresses for the guest's mappings that do not name one (mmap without MAP_FIXED, mremap
/// that must move): free ranges of the guest region below <see cref="Ceiling"/> and above
/// <see cref="AddressSpaceLayout.GuestMmapFloor"/>, top-down as the kernel's allocator places them
/// below the stack. Free means neither mapped by the guest (<see cref="GuestMappings"/>) nor
/// reserved by the engine (the code window and cache, the brk reservation, the heap arena, the
/// stack and its gap). The engine maps there with MAP_FIXED_NOREPLACE, so a range the kernel knows
/// to be taken is never overwritten; the caller then calls <see cref="Taken"/> and asks again.
/// </summary>
/// <remarks>
/// Placement goes on downwards from the last one (one lookup), as a program's mmaps mostly come in
/// a row; only when that place is taken does it scan for the highest free range (holes left by
/// munmap above included), and go on from there.
/// </remarks>
public sealed class GuestAddressAllocator(GuestMappings mappings)
{
    private const ulong Page = 4096;
    private readonly List<(ulong Start, ulong End)> _reserved = [];
    private readonly Lock _lock = new();
    private ulong _cursor = ulong.MaxValue;

    /// <summary>Where top-down placement starts (the bottom of the stack's guard gap).</summary>
    public ulong Ceiling { get; set; } = AddressSpaceLayout.GuestStackTop;

    /// <summary>A range the engine owns or keeps free in the guest region.</summary>
    public void Reserve(ulong start, ulong end)
    {
        lock (_lock) _reserved.Add((start, end));
    }

    /// <summary>The kernel said the range is taken (by something no table here knows of): never offer it again.</summary>
    public void Taken(ulong start, ulong length) => Reserve(start, start + length);

    /// <summary>A page-aligned free range of <paramref name="length"/> bytes, or null when the region is full.</summary>
    public ulong? FindFree(ulong length)
    {
        length = (length + Page - 1) & ~(Page - 1);
        if (length == 0 || length > Ceiling - AddressSpaceLayout.GuestMmapFloor) return null;
        lock (_lock)
        {
            ulong top = Math.Min(_cursor, Ceiling);
            if (top >= AddressSpaceLayout.GuestMmapFloor + length && IsFree(top - length, top)) return _cursor = top - length;
            ulong? found = HighestFree(length);
            if (found is ulong at) _cursor = at;
            return found;
        }
    }

    private bool IsFree(ulong start, ulong end) =>
        !mappings.AnyMapped(start, end) && !_reserved.Any(r => r.Start < end && start < r.End);

    /// <summary>The highest free range below the ceiling: a scan of everything taken.</summary>
    private ulong? HighestFree(ulong length)
    {
        List<(ulong Start, ulong End)> used = [.. _reserved];
        foreach ((ulong start, ulong end, int _) in mappings.Ranges) used.Add((start, end));
        used.Sort((a, b) => b.End.CompareTo(a.End));
        ulong top = Ceiling;
        foreach ((ulong start, ulong end) in used)
        {
            if (start >= top) continue;
            if (end <= top && top - end >= length && top - length >= AddressSpaceLayout.GuestMmapFloor) return top - length;
            top = Math.Min(top, start);
            if (top < AddressSpaceLayout.GuestMmapFloor + length) return null;
        }
        return top - length >= AddressSpaceLayout.GuestMmapFloor ? top - length : null;
    }
}
