// Shadow memory: design notes
//
// Every application byte has a 2-bit state (ShadowState: Defined, Undefined, BitLevel,
// Unaddressable; the encoding and why it was chosen are at the top of ShadowState.cs). Generated
// code reads these states on every memory access the guest makes, so the layout is chosen for the
// inline fast path first, compactness second.
//
// Direct-mapped. The state of byte a lives at shadow(a) = Base + (a >> 2), lane a & 3:
//     state(a) = (shadow(a) >> 2*(a & 3)) & 3
// One shift and one add, no table walk, no miss path, nothing to keep in sync when the guest maps
// memory. The price is one reservation of 2^47 / 4 = 32 TiB of virtual address space, made once with
// MAP_NORESERVE | MAP_PRIVATE | MAP_ANONYMOUS and PROT_READ | PROT_WRITE: no memory or swap is
// committed, a shadow page appears when first written, and reads of untouched shadow see the
// kernel's zero page (= Defined, so nothing has to be initialized). Valgrind's memcheck keeps the
// same four per-byte states behind a two-level table, which costs a lookup on every access; with
// the whole 47-bit user space available we can afford the flat map. The kernel places it (hint 0):
// top-down below the host's own mappings, around 0x5f.._...._.... on this machine (ASLR moves it),
// far above the engine's fixed addresses (all below 0x12_0000_0000); the guest's later non-fixed
// mmaps go around it.
//
// Why 2 bits per byte: four states are the byte-level model (addressable or not, defined or not,
// plus "partly defined" for bit-exact tracking, as in Valgrind and Dr. Memory). At 4:1 the shadow of
// an aligned 4-byte access is one byte and of an aligned 8-byte access one 16-bit word, so the fast
// path is a single load and compare with zero. 1 bit (addressability only) cannot find uninitialized
// reads; a shadow byte per application byte would quadruple the reservation and the cache
// footprint of the hot path.
//
// Updates. Set writes whole shadow bytes with Span.Fill and the partial bytes at the ends through
// masks (ShadowBits). Setting a large range Defined gives the interior shadow pages back with
// madvise(MADV_DONTNEED) instead of writing zeros: the range then costs no memory and reads as zero
// (Defined) again. Measured here (C, 4 KiB pages): zeroing a resident page costs ~60 ns and
// releasing it ~200 ns, but zeroing a page never touched faults it in (~2 us and 4 KiB of memory)
// while releasing it costs nothing beyond the ~0.6 us call. Large Defined ranges are mostly fresh
// mmaps and munmaps, so above ReleaseThreshold we release; below it we zero only the pages that
// hold a non-zero byte, and partial bytes are stored only when they change, so a small Defined
// range over untouched shadow stays untouched. The other states must be written: a gibibyte made
// Unaddressable takes ~140-200 ms, nearly all of it faulting in 65536 fresh shadow pages.
// MADV_POPULATE_WRITE first cut that by 30% in C, MADV_HUGEPAGE by 4x once compaction is warm (4x
// slower the first time); neither is used, since huge non-Defined ranges are rare and huge pages
// would cost 2 MiB of shadow for every sparsely touched region.
//
// Large Unaddressable and Undefined ranges (a freed or fresh heap block of megabytes) can be marked
// without writing them: once ShareLargeRangePages is called, whole shadow pages of such a range are
// mapped copy-on-write from a memory file full of 0xFF or 0x55 (SharedPatternPages), the way
// Valgrind points secondary maps at its distinguished NOACCESS and UNDEFINED maps. Those ranges are
// remembered, because madvise on them would bring back the file's pattern, not zeros: Defined over
// them maps fresh anonymous memory instead. A loop freeing a 64 MB block and mallocing one 32 KB
// larger, 2000 times, took 4M page faults (21 s) writing 0xFF; 14K (0.25 s) this way. Its mallocs'
// 0x55 then took 124 s on a PVM guest kernel (page faults cost more there, and it maps no zero page:
// reading untouched memory allocates); the Undefined file took that away too.
//
// Not here yet:
// - the BitLevel side table (which bits of a BitLevel byte are defined);
// - atomic updates: partial shadow bytes are read-modify-written with plain loads and stores. When
//   guest threads run, two threads changing neighbouring application bytes of one 4-byte group can
//   lose an update; partial-byte merges will need lock cmpxchg then;
// - addresses at or above 2^47 (the kernel half, the legacy vsyscall page, and 57-bit user
//   addresses the kernel only hands out when asked for with a hint above 2^47): they have no shadow
//   and every method here refuses them;
// - protecting the reservation from the guest: the engine's mmap emulation must refuse MAP_FIXED
//   over [Base, Base + ReservationSize), or the guest unmaps the shadow;
// - stack, register and heap policy (what to mark when): the engine and the heap interceptors.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Checker.Shadow.Native;

namespace Checker.Shadow;

/// <summary>
/// The shadow of the 47-bit user address space: 2 bits per application byte, direct-mapped at
/// <c>Base + (a &gt;&gt; 2)</c> (design notes at the top of ShadowMemory.cs). Not thread-safe for
/// concurrent updates of neighbouring bytes yet. The reservation lives until <see cref="Dispose"/>;
/// there is deliberately no finalizer, because generated code uses <see cref="Base"/> without
/// holding a reference to this object.
/// </summary>
public sealed unsafe class ShadowMemory : IDisposable
{
    /// <summary>Exclusive upper bound of the application addresses that have shadow (2^47).</summary>
    public const ulong AddressLimit = 1UL << 47;

    /// <summary>Bytes of virtual address space reserved for the shadow (2^45 = 32 TiB).</summary>
    public const ulong ReservationSize = AddressLimit >> ShadowBits.AddressShift;

    /// <summary>
    /// Setting Defined releases whole shadow pages when at least this many shadow bytes (16 pages,
    /// the shadow of 256 KiB of application memory) can be released; smaller ranges are zeroed
    /// where they are not zero already.
    /// </summary>
    internal const ulong ReleaseThreshold = 64 * 1024;

    // Spans are int-sized; fills and scans of larger ranges go in pieces of this many bytes.
    private const int MaxSpanBytes = 1 << 30;

    // Misaligned copies go through a stack buffer holding the shadow of this many application bytes.
    private const int CopyChunk = 64 * 1024;
    private const int StagingBytes = CopyChunk / ShadowBits.LanesPerByte;

    private static readonly ulong PageSize = (ulong)Environment.SystemPageSize;

    private byte* _base;
    private SharedPatternPages? _shared, _sharedUndefined;

    /// <summary>Reserves the shadow (virtual space only) and reads every byte as Defined.</summary>
    /// <exception cref="ShadowMemoryException">The kernel refused the 32 TiB reservation.</exception>
    public ShadowMemory()
    {
        nint mapped = ShadowLibC.mmap(0, unchecked((nuint)ReservationSize), ShadowLibC.ProtRead | ShadowLibC.ProtWrite,
            ShadowLibC.MapPrivate | ShadowLibC.MapAnonymous | ShadowLibC.MapNoReserve, -1, 0);
        if (mapped == ShadowLibC.MapFailed)
            throw new ShadowMemoryException(
                $"cannot reserve {ReservationSize >> 40} TiB of address space for shadow memory: errno {Marshal.GetLastPInvokeError()} " +
                "(vm.overcommit_memory=2 and ulimit -v refuse MAP_NORESERVE reservations this large)");
        _base = (byte*)mapped;
    }

    /// <summary>Address of the shadow byte of application address 0; generated code computes <c>Base + (a &gt;&gt; 2)</c>.</summary>
    public ulong Base => (ulong)Shadow();

    /// <summary>Address of the shadow byte holding the state of <paramref name="address"/> (lane <c>address &amp; 3</c>).</summary>
    public ulong ShadowAddressOf(ulong address)
    {
        byte* shadow = Shadow();
        CheckRange(address, 0, nameof(address));
        return (ulong)(shadow + ShadowBits.ShadowOffset(address));
    }

    /// <summary>The state of the application byte at <paramref name="address"/>.</summary>
    public ShadowState Get(ulong address)
    {
        byte* shadow = Shadow();
        CheckRange(address, 0, nameof(address));
        return ShadowBits.Unpack(shadow[ShadowBits.ShadowOffset(address)], ShadowBits.Lane(address));
    }

    /// <summary>The states of the bytes from <paramref name="address"/>, one per element of <paramref name="states"/> (bulk <see cref="Get"/>).</summary>
    public void GetStates(ulong address, Span<ShadowState> states)
    {
        byte* shadow = Shadow();
        CheckRange(address, (ulong)states.Length, nameof(address));
        for (int i = 0; i < states.Length; i++)
        {
            ulong a = address + (ulong)i;
            states[i] = (ShadowState)((shadow[a >> ShadowBits.AddressShift] >> (2 * (int)(a & 3))) & 3);
        }
    }

    /// <summary>
    /// Sets the bytes from <paramref name="address"/> to <paramref name="states"/>, one per element,
    /// leaving unaddressable bytes as they are; each shadow byte is written only when it changes,
    /// atomically (see <see cref="SetLanes"/>).
    /// </summary>
    public void SetStatesKeepingUnaddressable(ulong address, ReadOnlySpan<ShadowState> states)
    {
        byte* shadow = Shadow();
        CheckRange(address, (ulong)states.Length, nameof(address));
        int i = 0;
        while (i < states.Length)
        {
            ulong a = address + (ulong)i;
            byte* p = shadow + (a >> ShadowBits.AddressShift);
            int word = *(int*)((ulong)p & ~3UL);
            int shift = (int)((ulong)p & 3) * 8;
            byte old = (byte)(word >> shift), updated = old;
            // The lanes of this shadow byte that the range covers.
            for (int lane = (int)(a & 3); lane < ShadowBits.LanesPerByte && i < states.Length; lane++, i++)
            {
                int current = (old >> (2 * lane)) & 3;
                if (current == (int)ShadowState.Unaddressable) continue;
                updated = (byte)((updated & ~(3 << (2 * lane))) | ((int)states[i] << (2 * lane)));
            }
            if (updated != old) ReplaceByte(p, old, updated);
        }
    }

    /// <summary>Replaces one shadow byte, atomically against lane updates of other threads: lanes this caller did not mean to change are merged in again.</summary>
    private static void ReplaceByte(byte* p, byte expected, byte updated)
    {
        int* word = (int*)((ulong)p & ~3UL);
        int shift = (int)((ulong)p & 3) * 8;
        byte changed = (byte)(expected ^ updated);
        while (true)
        {
            int oldWord = Volatile.Read(ref *word);
            byte current = (byte)(oldWord >> shift);
            byte next = (byte)((current & ~changed) | (updated & changed));
            if (next == current) return;
            int newWord = (oldWord & ~(0xff << shift)) | (next << shift);
            if (Interlocked.CompareExchange(ref *word, newWord, oldWord) == oldWord) return;
        }
    }

    /// <summary>
    /// Faults in the shadow pages of a range whose shadow is about to be written (a heap arena's next
    /// blocks) in one call instead of a fault per page; the contents do not change. Best effort.
    /// </summary>
    public void Populate(ulong address, ulong length)
    {
        CheckRange(address, length, nameof(address));
        if (length == 0) return;
        ulong start = PageDown((ulong)Shadow() + (address >> 2)), end = PageUp((ulong)Shadow() + ((address + length + 3) >> 2));
        ShadowLibC.madvise((nint)start, (nuint)(end - start), ShadowLibC.MadvPopulateWrite);
    }

    /// <summary>
    /// The shadow of memory the program unmapped (whole pages): defined again, as a later mapping
    /// there starts (Valgrind's too), and given back to the kernel. The shadow pages wholly inside
    /// go back by madvise; in the partial pages at the ends the range's bytes are cleared only where
    /// the page is resident (reading an untouched page would allocate it on this VM's kernel, which
    /// has no shared zero page). Without it a program that maps, touches and unmaps memory at ever
    /// new addresses kept every shadow page it had touched, and a mapping made where an old one's
    /// bytes were marked (client requests) inherited the marks.
    /// </summary>
    public void ReleaseUnmapped(ulong address, ulong length)
    {
        CheckRange(address, length, nameof(address));
        if (length == 0) return;
        ulong shadow = (ulong)Shadow();
        // Whole application pages have whole shadow bytes: no lanes to merge at the ends.
        ulong start = shadow + (PageDown(address) >> 2), end = shadow + (PageUp(address + length) >> 2);
        // The partial page at each end (one page may hold both), then the whole pages between.
        ulong headEnd = Math.Min(PageUp(start), end), tailStart = Math.Max(PageDown(end), headEnd);
        ClearIfResident(start, headEnd);
        ClearIfResident(tailStart, end);
        ulong pagesStart = PageUp(start), pagesEnd = PageDown(end);
        if (pagesEnd > pagesStart && !Release(pagesStart, pagesEnd)) ZeroIfNeeded((byte*)pagesStart, pagesEnd - pagesStart);
    }

    // [start, end) within one shadow page: zeros where the page is in memory (else it reads zeros).
    private static void ClearIfResident(ulong start, ulong end)
    {
        if (end <= start) return;
        byte resident = 0;
        if (ShadowLibC.mincore((nint)PageDown(start), (nuint)PageSize, &resident) == 0 && (resident & 1) == 0) return;
        ZeroIfNeeded((byte*)start, end - start);
    }

    /// <summary>Sets the <paramref name="length"/> bytes from <paramref name="address"/> to <paramref name="state"/>.</summary>
    public void Set(ulong address, ulong length, ShadowState state)
    {
        byte* shadow = Shadow();
        CheckState(state);
        CheckRange(address, length, nameof(address));
        if (length == 0) return;

        ulong end = address + length;
        ulong first = ShadowBits.ShadowOffset(address), last = ShadowBits.ShadowOffset(end - 1);
        int headLane = ShadowBits.Lane(address);
        if (first == last)
        {
            SetLanes(shadow + first, headLane, (int)length, state);
            return;
        }

        // [bodyStart, bodyEnd): shadow bytes whose four lanes are all in the range.
        ulong bodyStart = first, bodyEnd = last + 1;
        if (headLane != 0)
        {
            SetLanes(shadow + first, headLane, ShadowBits.LanesPerByte - headLane, state);
            bodyStart++;
        }
        int tailLanes = ShadowBits.Lane(end);
        if (tailLanes != 0)
        {
            SetLanes(shadow + last, 0, tailLanes, state);
            bodyEnd--;
        }

        if (state == ShadowState.Defined) MakeZero(shadow + bodyStart, bodyEnd - bodyStart);
        else if (state == ShadowState.Unaddressable) FillShared(_shared, _sharedUndefined, shadow + bodyStart, bodyEnd - bodyStart, state);
        else if (state == ShadowState.Undefined) FillShared(_sharedUndefined, _shared, shadow + bodyStart, bodyEnd - bodyStart, state);
        else FillBytes(shadow + bodyStart, bodyEnd - bodyStart, ShadowBits.Pattern(state));
    }

    /// <summary>
    /// From now on large Unaddressable and Undefined ranges (at least <see cref="ShareThreshold"/>
    /// shadow bytes of whole pages) are mapped from shared page files instead of written (see
    /// <see cref="SharedPatternPages"/>). Returns the files' descriptors, at or above
    /// <paramref name="lowestDescriptor"/> when the limit allows, which the caller must keep from the
    /// guest; none when the kernel offers no memory files (then ranges are written, as before).
    /// </summary>
    public IReadOnlyList<int> ShareLargeRangePages(int lowestDescriptor)
    {
        Shadow();
        _shared ??= SharedPatternPages.Create(lowestDescriptor, ShadowBits.Pattern(ShadowState.Unaddressable), "checker-unaddressable-shadow");
        _sharedUndefined ??= SharedPatternPages.Create(lowestDescriptor, ShadowBits.Pattern(ShadowState.Undefined), "checker-undefined-shadow");
        return new[] { _shared, _sharedUndefined }.OfType<SharedPatternPages>().Select(pages => pages.Descriptor).ToArray();
    }

    /// <summary>Unaddressable or Undefined over at least this many shadow bytes (1 MiB of application memory) maps the range's whole pages shared, once enabled.</summary>
    internal const ulong ShareThreshold = 256 * 1024;

    /// <summary>True if every byte of the range is in <paramref name="state"/> (an empty range is).</summary>
    public bool IsAll(ulong address, ulong length, ShadowState state) => FirstNot(address, length, state) is null;

    /// <summary>
    /// The first byte of the range whose state is not <paramref name="expected"/>, with its state;
    /// null if there is none. This is the slow path's "where does this access go wrong".
    /// </summary>
    public (ulong Address, ShadowState State)? FirstNot(ulong address, ulong length, ShadowState expected)
    {
        byte* shadow = Shadow();
        CheckState(expected);
        CheckRange(address, length, nameof(address));
        if (length == 0) return null;

        ulong end = address + length;
        ulong first = ShadowBits.ShadowOffset(address), last = ShadowBits.ShadowOffset(end - 1);
        int headLane = ShadowBits.Lane(address);
        if (first == last) return FirstNotInByte(shadow, first, headLane, (int)length, expected);

        if (headLane != 0)
        {
            var head = FirstNotInByte(shadow, first, headLane, ShadowBits.LanesPerByte - headLane, expected);
            if (head is not null) return head;
            first++;
        }
        int tailLanes = ShadowBits.Lane(end);
        ulong bodyEnd = tailLanes != 0 ? last : last + 1;

        // Whole shadow bytes: a vectorized search for the first byte that differs from the pattern.
        byte pattern = ShadowBits.Pattern(expected);
        for (ulong i = first; i < bodyEnd;)
        {
            int n = (int)Math.Min(MaxSpanBytes, bodyEnd - i);
            int k = new ReadOnlySpan<byte>(shadow + i, n).IndexOfAnyExcept(pattern);
            if (k >= 0) return FirstNotInByte(shadow, i + (ulong)k, 0, ShadowBits.LanesPerByte, expected);
            i += (ulong)n;
        }

        return tailLanes != 0 ? FirstNotInByte(shadow, last, 0, tailLanes, expected) : null;
    }

    /// <summary>
    /// Copies the states of the <paramref name="length"/> bytes at <paramref name="from"/> to the
    /// bytes at <paramref name="to"/>, byte for byte, as memmove copies data: overlapping ranges in
    /// either direction and any alignment of either end.
    /// </summary>
    public void Copy(ulong from, ulong to, ulong length)
    {
        byte* shadow = Shadow();
        CheckRange(from, length, nameof(from));
        CheckRange(to, length, nameof(to));
        if (length == 0 || from == to) return;

        if (ShadowBits.Lane(from) == ShadowBits.Lane(to)) CopySameLane(shadow, from, to, length);
        else CopyStaged(shadow, from, to, length);
    }

    /// <summary>Unmaps the shadow. Generated code that still uses <see cref="Base"/> will fault.</summary>
    /// <summary>
    /// Makes the shadow of [<paramref name="start"/>, <paramref name="end"/>) inaccessible (PROT_NONE,
    /// whole shadow pages: 16 KiB of application memory each, rounded inwards): reading the state of
    /// such an address faults. For memory that is not the application's at all (the tool's own), so
    /// that the inline checks of an access there fault instead of passing. No state can be set there.
    /// </summary>
    public void Forbid(ulong start, ulong end) => ProtectShadow(start, end, inwards: true, 0);

    /// <summary>Undoes <see cref="Forbid"/> for [<paramref name="start"/>, <paramref name="end"/>) (rounded outwards).</summary>
    public void Allow(ulong start, ulong end) => ProtectShadow(start, end, inwards: false, ShadowLibC.ProtRead | ShadowLibC.ProtWrite);

    private void ProtectShadow(ulong start, ulong end, bool inwards, int prot)
    {
        const ulong Page = 4096;
        if (end > AddressLimit || start >= end) throw new ArgumentOutOfRangeException(nameof(end));
        ulong from = (ulong)Shadow() + (start >> ShadowBits.AddressShift);
        ulong to = (ulong)Shadow() + ((end + 3) >> ShadowBits.AddressShift);
        from = inwards ? (from + Page - 1) & ~(Page - 1) : from & ~(Page - 1);
        to = inwards ? to & ~(Page - 1) : (to + Page - 1) & ~(Page - 1);
        if (to <= from) return;
        if (ShadowLibC.mprotect((nint)from, (nuint)(to - from), prot) != 0)
            throw new InvalidOperationException($"mprotect of the shadow at 0x{from:x} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public void Dispose()
    {
        byte* shadow = _base;
        if (shadow == null) return;
        _base = null;
        _shared?.Dispose();
        _sharedUndefined?.Dispose();
        if (ShadowLibC.munmap((nint)shadow, unchecked((nuint)ReservationSize)) != 0)
            throw new ShadowMemoryException($"munmap of the shadow failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private byte* Shadow()
    {
        byte* shadow = _base;
        ObjectDisposedException.ThrowIf(shadow == null, this);
        return shadow;
    }

    private static void CheckRange(ulong address, ulong length, string addressName)
    {
        if (address >= AddressLimit)
            throw new ArgumentOutOfRangeException(addressName, $"0x{address:x} is not below the 47-bit user address limit 0x{AddressLimit:x}");
        if (length > AddressLimit - address)
            throw new ArgumentOutOfRangeException(nameof(length), $"0x{address:x} + 0x{length:x} passes the 47-bit user address limit 0x{AddressLimit:x}");
    }

    private static void CheckState(ShadowState state)
    {
        if ((byte)state > (byte)ShadowState.Unaddressable)
            throw new ArgumentOutOfRangeException(nameof(state), state, "not a shadow state");
    }

    private static (ulong Address, ShadowState State)? FirstNotInByte(byte* shadow, ulong index, int firstLane, int count, ShadowState expected)
    {
        byte b = shadow[index];
        int lane = ShadowBits.FirstLaneNot(b, firstLane, count, expected);
        if (lane < 0) return null;
        return ((index << ShadowBits.AddressShift) + (ulong)lane, ShadowBits.Unpack(b, lane));
    }

    // Stores only if the byte changes: an unchanged byte on an untouched page then costs no page.
    /// <summary>
    /// Some lanes of one shadow byte, atomically (a compare-and-swap of its aligned word): the other
    /// lanes may be another thread's bytes, which generated code updates with locked instructions.
    /// </summary>
    private static void SetLanes(byte* p, int firstLane, int count, ShadowState state)
    {
        int* word = (int*)((ulong)p & ~3UL);
        int shift = (int)((ulong)p & 3) * 8;
        while (true)
        {
            int oldWord = Volatile.Read(ref *word);
            byte old = (byte)(oldWord >> shift), updated = ShadowBits.Fill(old, firstLane, count, state);
            if (updated == old) return;
            int newWord = (oldWord & ~(0xff << shift)) | (updated << shift);
            if (Interlocked.CompareExchange(ref *word, newWord, oldWord) == oldWord) return;
        }
    }

    private const ulong SmallZeroBytes = 64;

    private static void FillBytes(byte* p, ulong count, byte pattern)
    {
        while (count > 0)
        {
            int n = (int)Math.Min(MaxSpanBytes, count);
            new Span<byte>(p, n).Fill(pattern);
            p += n;
            count -= (ulong)n;
        }
    }

    // Whole shadow bytes to the state of <pages>: whole pages of a large range mapped from its
    // shared file (no longer from the other file's).
    private static void FillShared(SharedPatternPages? pages, SharedPatternPages? other, byte* p, ulong count, ShadowState state)
    {
        byte pattern = ShadowBits.Pattern(state);
        ulong start = (ulong)p, end = start + count;
        ulong pagesStart = PageUp(start), pagesEnd = PageDown(end);
        // The range's size decides, not its whole pages': the 1 MiB below a new program's stack pointer
        // (256 KiB of shadow, rarely page-aligned) was written, 64 fresh pages on every start.
        if (pages != null && pagesEnd > pagesStart && count >= ShareThreshold && pages.TryMap(pagesStart, pagesEnd))
        {
            other?.Forget(pagesStart, pagesEnd);
            FillBytes(p, pagesStart - start, pattern);
            FillBytes((byte*)pagesEnd, end - pagesEnd, pattern);
            return;
        }
        FillBytes(p, count, pattern);
    }

    // Makes whole shadow bytes zero (Defined), releasing whole pages of large ranges (see the notes).
    private void MakeZero(byte* p, ulong count)
    {
        // Heap blocks and stack frames: a few shadow bytes, each stored only if non-zero (so
        // untouched shadow stays untouched) without the cost of a vectorized search call.
        if (count <= SmallZeroBytes)
        {
            for (byte* q = p, stop = p + count; q < stop; q++)
                if (*q != 0) *q = 0;
            return;
        }
        ulong start = (ulong)p, end = start + count;
        ulong pagesStart = PageUp(start), pagesEnd = PageDown(end);
        if (pagesEnd > pagesStart && pagesEnd - pagesStart >= ReleaseThreshold && Release(pagesStart, pagesEnd))
        {
            ZeroIfNeeded(p, pagesStart - start);
            ZeroIfNeeded((byte*)pagesEnd, end - pagesEnd);
            return;
        }
        // madvise cannot fail on our own private anonymous mapping; if it ever did, zeros are still right.
        ZeroIfNeeded(p, count);
    }

    // Whole pages back to zero: madvise, or, where pages are mapped from a shared pattern file
    // (madvise would bring its pattern back), fresh anonymous memory mapped over them.
    private bool Release(ulong pagesStart, ulong pagesEnd)
    {
        if (_shared?.Overlaps(pagesStart, pagesEnd) == true || _sharedUndefined?.Overlaps(pagesStart, pagesEnd) == true)
        {
            nint mapped = ShadowLibC.mmap((nint)pagesStart, (nuint)(pagesEnd - pagesStart), ShadowLibC.ProtRead | ShadowLibC.ProtWrite,
                ShadowLibC.MapPrivate | ShadowLibC.MapAnonymous | ShadowLibC.MapNoReserve | ShadowLibC.MapFixed, -1, 0);
            if (mapped == ShadowLibC.MapFailed) return false;
            _shared?.Forget(pagesStart, pagesEnd);
            _sharedUndefined?.Forget(pagesStart, pagesEnd);
            return true;
        }
        return ShadowLibC.madvise((nint)pagesStart, (nuint)(pagesEnd - pagesStart), ShadowLibC.MadvDontNeed) == 0;
    }

    // Writes zeros only to the pages that hold a non-zero byte. Those pages were written before and
    // are allocated already; pages that are zero (often never touched) are only read and stay free.
    private static void ZeroIfNeeded(byte* p, ulong count)
    {
        ulong at = (ulong)p, end = at + count;
        while (at < end)
        {
            ulong next = Math.Min(PageDown(at) + PageSize, end);
            var span = new Span<byte>((byte*)at, (int)(next - at));
            if (span.ContainsAnyExcept((byte)0)) span.Clear();
            at = next;
        }
    }

    // Source and destination share their lane: whole shadow bytes move with memmove, the partial
    // bytes at both ends are merged through masks.
    private static void CopySameLane(byte* shadow, ulong from, ulong to, ulong length)
    {
        byte* source = shadow + ShadowBits.ShadowOffset(from);
        byte* destination = shadow + ShadowBits.ShadowOffset(to);
        int headLane = ShadowBits.Lane(from);
        ulong last = ShadowBits.ShadowOffset(from + length - 1) - ShadowBits.ShadowOffset(from);
        if (last == 0)
        {
            *destination = ShadowBits.Merge(*destination, *source, ShadowBits.LaneMask(headLane, (int)length));
            return;
        }

        // Read both partial source bytes before the move: with overlap it may overwrite them.
        byte head = source[0], tail = source[last];
        int tailLanes = ShadowBits.Lane(from + length - 1) + 1;
        ulong bodyStart = headLane == 0 ? 0UL : 1UL;
        ulong bodyEnd = tailLanes == ShadowBits.LanesPerByte ? last + 1 : last;
        ulong bodyBytes = bodyEnd - bodyStart;
        Buffer.MemoryCopy(source + bodyStart, destination + bodyStart, bodyBytes, bodyBytes);
        if (headLane != 0)
            destination[0] = ShadowBits.Merge(destination[0], head, ShadowBits.LaneMask(headLane, ShadowBits.LanesPerByte - headLane));
        if (tailLanes != ShadowBits.LanesPerByte)
            destination[last] = ShadowBits.Merge(destination[last], tail, ShadowBits.LaneMask(0, tailLanes));
    }

    // Source and destination lanes differ, so every state moves by a bit shift. Each chunk is
    // first extracted into a lane-0-aligned staging buffer, then inserted at the destination. Going
    // backwards when the destination is above the source (forwards otherwise) means a chunk's
    // destination never overlaps source bytes not yet read, and masked writes never touch lanes
    // outside the chunk: memmove semantics.
    private static void CopyStaged(byte* shadow, ulong from, ulong to, ulong length)
    {
        byte* staging = stackalloc byte[StagingBytes];
        if (to > from)
        {
            for (ulong offset = length; offset > 0;)
            {
                ulong n = Math.Min(CopyChunk, offset);
                offset -= n;
                Extract(shadow, from + offset, n, staging);
                Insert(shadow, to + offset, n, staging);
            }
        }
        else
        {
            for (ulong offset = 0; offset < length;)
            {
                ulong n = Math.Min(CopyChunk, length - offset);
                Extract(shadow, from + offset, n, staging);
                Insert(shadow, to + offset, n, staging);
                offset += n;
            }
        }
    }

    // staging lane i (of byte i / 4) = state of application byte address + i, for i < count.
    private static void Extract(byte* shadow, ulong address, ulong count, byte* staging)
    {
        byte* source = shadow + ShadowBits.ShadowOffset(address);
        int shift = ShadowBits.BitsPerLane * ShadowBits.Lane(address);
        ulong stagedBytes = (count + 3) / ShadowBits.LanesPerByte;
        if (shift == 0)
        {
            Buffer.MemoryCopy(source, staging, stagedBytes, stagedBytes);
            return;
        }

        // Never read past the last source shadow byte: it may be the last byte of the reservation.
        ulong sourceLast = ShadowBits.ShadowOffset(address + count - 1) - ShadowBits.ShadowOffset(address);
        ulong k = 0;
        for (; k + 8 <= sourceLast && k + 8 <= stagedBytes; k += 8)
        {
            ulong word = (Unsafe.ReadUnaligned<ulong>(source + k) >> shift) | ((ulong)source[k + 8] << (64 - shift));
            Unsafe.WriteUnaligned(staging + k, word);
        }
        for (; k < stagedBytes; k++)
        {
            int high = k + 1 <= sourceLast ? source[k + 1] << (8 - shift) : 0;
            staging[k] = (byte)((source[k] >> shift) | high);
        }
    }

    // State of application byte address + i = staging lane i, for i < count; other lanes unchanged.
    private static void Insert(byte* shadow, ulong address, ulong count, byte* staging)
    {
        byte* destination = shadow + ShadowBits.ShadowOffset(address);
        int headLane = ShadowBits.Lane(address);
        int shift = ShadowBits.BitsPerLane * headLane;
        ulong stagedBytes = (count + 3) / ShadowBits.LanesPerByte;
        ulong last = ShadowBits.ShadowOffset(address + count - 1) - ShadowBits.ShadowOffset(address);
        if (last == 0)
        {
            *destination = ShadowBits.Merge(*destination, (byte)(staging[0] << shift), ShadowBits.LaneMask(headLane, (int)count));
            return;
        }

        destination[0] = ShadowBits.Merge(destination[0], (byte)(staging[0] << shift),
            ShadowBits.LaneMask(headLane, ShadowBits.LanesPerByte - headLane));

        // Destination byte j takes the lanes below headLane from staging byte j - 1 and the others
        // from staging byte j. Bytes 1 .. last - 1 are whole.
        ulong j = 1;
        for (; j + 8 <= last; j += 8)
        {
            ulong word = (Unsafe.ReadUnaligned<ulong>(staging + j) << shift) | ((ulong)staging[j - 1] >> (8 - shift));
            Unsafe.WriteUnaligned(destination + j, word);
        }
        for (; j < last; j++)
            destination[j] = (byte)((staging[j] << shift) | (staging[j - 1] >> (8 - shift)));

        int lowFromPrevious = staging[last - 1] >> (8 - shift);
        int fromLast = last < stagedBytes ? staging[last] << shift : 0;
        int tailLanes = ShadowBits.Lane(address + count - 1) + 1;
        destination[last] = ShadowBits.Merge(destination[last], (byte)(lowFromPrevious | fromLast), ShadowBits.LaneMask(0, tailLanes));
    }

    private static ulong PageDown(ulong a) => a & ~(PageSize - 1);

    private static ulong PageUp(ulong a) => (a + PageSize - 1) & ~(PageSize - 1);
}
