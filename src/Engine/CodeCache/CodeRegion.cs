using System.Runtime.Versioning;
using Checker.Engine.Memory;
using Checker.Engine.Native;

namespace Checker.Engine.CodeCache;

/// <summary>
/// The reserved RWX region all generated code lives in, handed out by a bump pointer. Space of
/// flushed fragments is not reused yet: a flush is rare (munmap/mprotect of code) and the region is
/// large. Carving is done under the translator's lock.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CodeRegion
{
    private ulong _next;
    // Where code may go up to: sparse data is carved downwards from the end (AllocateSparseData).
    private ulong _top;

    // Populated ahead up to here, in huge-page steps (BackgroundPopulation): the translator's next
    // fragments go to pages another core already zeroed. Only small carvings (fragments) move it: the
    // tool's pools are carved whole up front and touched sparsely. Only past PopulateFrom bytes used:
    // a small program's cache (routines and pools ~7.7 MB under memcheck, /bin/true's fragments
    // ~1.5 MB) would pay 4 MB of populated pages and a thread for nothing.
    private const ulong PopulateStep = 2 << 20, PopulateLead = 1 << 20, LargeCarving = 64 << 10, PopulateFrom = 12 << 20;
    private ulong _populatedTo;

    public CodeRegion(ulong start, ulong size)
    {
        Start = HostMemory.MapAnonymous(start, size, LibC.ProtRead | LibC.ProtWrite | LibC.ProtExec, noReserve: true);
        End = Start + size;
        _next = Start;
        _top = End;
        // 2 MB pages where the kernel has them (transparent huge pages on madvise): a large program's
        // cache is a hundred megabytes of code the CPU jumps all over, and with 4 KB pages every
        // fresh page is a fault while translating and every cold one an iTLB miss while running.
        LibC.madvise((nint)Start, (nuint)size, LibC.MadvHugePage);
    }

    public ulong Start { get; }
    public ulong End { get; }
    public ulong Used => _next - Start;
    /// <summary>Where code may end: below the sparse data carved from the top.</summary>
    public ulong CodeLimit => _top;

    /// <summary>Where the next allocation will start (after aligning to <paramref name="alignment"/>).</summary>
    public ulong Peek(ulong alignment) => (_next + alignment - 1) & ~(alignment - 1);

    /// <summary>
    /// Where the next allocation will start so that the address <paramref name="offset"/> bytes into it
    /// is aligned to <paramref name="alignment"/> (a fragment's entry past its header).
    /// </summary>
    public ulong PeekAligningOffset(ulong offset, ulong alignment) => Peek(alignment, offset);

    private ulong Peek(ulong alignment, ulong offset) => ((_next + offset + alignment - 1) & ~(alignment - 1)) - offset;

    public ulong Allocate(ulong size, ulong alignment) => Allocate(size, alignment, 0);

    /// <summary>Allocates <paramref name="size"/> bytes where <see cref="PeekAligningOffset"/> said.</summary>
    public ulong AllocateAligningOffset(ulong size, ulong offset, ulong alignment) => Allocate(size, alignment, offset);

    private ulong Allocate(ulong size, ulong alignment, ulong offset)
    {
        ulong at = Peek(alignment, offset);
        if (at + size > _top)
            throw new EngineException($"code cache full ({(End - Start) >> 20} MB)");
        _next = at + size;
        if (size < LargeCarving && _next - Start >= PopulateFrom) PopulateAhead();
        return at;
    }

    private void PopulateAhead()
    {
        if (_populatedTo < _next) _populatedTo = (_next + PopulateStep - 1) & ~(PopulateStep - 1);
        while (_next + PopulateLead > _populatedTo && _populatedTo < _top)
        {
            BackgroundPopulation.Shared.Request(_populatedTo, Math.Min(PopulateStep, _top - _populatedTo));
            _populatedTo += PopulateStep;
        }
    }

    /// <summary>
    /// Room for counters the generated code updates, or code it seldom runs (exit stubs), within
    /// disp32 reach of it and at the same address in every run, on small pages: touched sparsely or
    /// a little at a time, a 2 MB page per touch would be mostly zeros (a small program's RSS).
    /// Carved from the region's top, so that the code below stays in as few 2 MB pages as before.
    /// </summary>
    public ulong AllocateSparseData(ulong size)
    {
        const ulong HugePage = 2 << 20;
        ulong at = (_top - size) & ~(HugePage - 1);
        if (at < _next) throw new EngineException($"code cache full ({(End - Start) >> 20} MB)");
        LibC.madvise((nint)at, (nuint)(_top - at), LibC.MadvNoHugePage);
        _top = at;
        return at;
    }

    /// <summary>
    /// Takes everything up to <paramref name="next"/> as allocated: a persisted snapshot's code was
    /// just read there (<see cref="PersistedTranslations"/>), where this run would have carved it.
    /// </summary>
    internal void Restore(ulong next)
    {
        if (next < _next || next > _top) throw new EngineException($"persisted code 0x{next:x} outside the free region");
        _next = next;
    }

    /// <summary>Copies finished code to its address (RWX: no protection flip needed).</summary>
    public static unsafe void Write(ulong address, ReadOnlySpan<byte> code) =>
        code.CopyTo(new Span<byte>((void*)address, code.Length));

    public static CodeRegion ReserveDefault() =>
        new(AddressSpaceLayout.CodeCacheStart, AddressSpaceLayout.CodeCacheSize);
}
