using Checker.Engine.Dispatch;
using Checker.Engine.Native;
using Checker.Shadow;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The replacement allocator behind the intercepted malloc family (Dr. Memory replaces the
/// allocator by default too). Blocks are carved from one private arena with a redzone on both
/// sides of every block (<see cref="RedzonePolicy"/>: growing with the block unless fixed); freed
/// blocks wait in a FIFO quarantine (delayed frees) before their space is reused, so a stale
/// pointer keeps pointing at freed memory for a while; realloc always moves. Per block it keeps
/// the requested size, the allocating family and the allocation and free callstacks. Errors in
/// arguments (double free, free of a non-heap or interior pointer, mismatched families) are handed
/// to <see cref="Errors"/>, never printed here. With a shadow, the program's bytes of a live block
/// are addressable and everything else the arena hands out (redzones, alignment gaps, the padding
/// after an odd size, freed blocks, free space) is unaddressable.
/// </summary>
/// <remarks>
/// Space out of quarantine is reused: small blocks go to exact-size free lists
/// (<see cref="ReusableBlocks"/>, the hot path), larger ones to coalescing <see cref="FreeRanges"/>,
/// and free space next to the unused end of the arena rejoins it. When the arena has grown by 16 MB since the small lists were last merged and
/// they hoard more than that and more than the live heap, they are merged into the ranges too, so
/// no size pattern makes the arena grow without bound. Free pages go back to the kernel once the
/// free space not yet given back passes the live heap and 32 MB. Freed space stays unaddressable
/// in the shadow until reused.
/// </remarks>
public sealed unsafe class GuestHeap
{
    private const ulong ArenaSize = 64UL << 30;
    private const ulong MinimumAlignment = 16;
    /// <summary>Blocks up to this size (redzones included) are reused through exact-size lists.</summary>
    private const ulong SmallBlock = ReusableBlocks.Limit;
    private const ulong HoardFloor = 16UL << 20;
    /// <summary>Free space whose pages may stay resident (glibc's trim threshold, in spirit): above this and the live heap, free pages go back to the kernel.</summary>
    private const ulong ResidentFreeFloor = 32UL << 20;
    /// <summary>Requests above this are refused (NULL, ENOMEM), as glibc refuses what it cannot map.</summary>
    public const ulong MaxRequest = ArenaSize / 2;

    // Live and quarantined blocks by user address (one table: a free only flips the slot's state).
    private readonly ChunkTable _chunks;
    // Freed blocks in order, with what recycling needs: by then the block's slot is long out of the
    // caches, and reading it again cost a cache miss per free.
    private readonly Quarantine _quarantine;
    private readonly ReusableBlocks _reusable;
    private readonly FreeRanges _free;
    private readonly RedzonePolicy _redzones;
    private readonly ulong _arenaEnd;
    // Where the arena's unused end begins: in the fast path's state, which carves blocks there too.
    private ulong _next
    {
        get => _state->Next;
        set => _state->Next = value;
    }
    // The arena is reserved PROT_NONE and opened in steps as it grows: a wild access past what the
    // heap ever handed out faults, as it would natively, and the opened part's unused end is
    // unaddressable in the shadow.
    private ulong _open;
    private const ulong OpenStep = 64UL << 20;
    // Blocks are carved (here and in the fast path) only up to _committed, which moves ahead in
    // PopulateStep steps, each populated with its shadow in one call: blocks carved one after another
    // then take no page fault each (~10 us on a PVM guest kernel; cc1plus took ~6,500 in the arena).
    // A step for one large block is not populated: the program may touch little of it. The step
    // grows with the heap, from 64 KB to 1 MB: a program that mallocs a little (a test binary's
    // stdio buffer) held 1 MB of arena and 256 KB of shadow it never touched.
    private ref ulong _committed => ref _state->Committed;
    private const ulong PopulateStep = 1UL << 20, FirstPopulateStep = 64UL << 10;
    // The counts the native fast path keeps up too live in its state.
    private ref ulong _quarantinedBytes => ref _state->QuarantinedBytes;
    private ref ulong _hoardedBytes => ref _state->HoardedBytes;
    private readonly HeapFastPath.State* _state = HeapFastPath.NewState();
    private bool _fastPathAllowed, _arenaProtectedByProgram;
    private HeapJournal? _journal;
    private ulong _undiscardedBytes;   // freed into the ranges since their pages were last given back

    private readonly ShadowMemory? _shadow;
    private readonly BlockShadow? _blockShadow;

    /// <param name="redzone">Redzone width for every block; null: adapt to the block's size.</param>
    /// <param name="arenaAddress">Where the arena goes (0: wherever the kernel puts it): the engine keeps it in the guest's region.</param>
    public GuestHeap(ulong? redzone, ulong delayFreesBytes, ShadowMemory? shadow = null, ulong arenaAddress = 0, ulong delayFrees = ulong.MaxValue)
    {
        _shadow = shadow;
        _chunks = new ChunkTable(Stacks, _state);
        _quarantine = new Quarantine(_state);
        _free = new FreeRanges { LongestPublished = &_state->MaxRange };
        _reusable = new ReusableBlocks(_state);
        _blockShadow = shadow != null ? new BlockShadow(shadow) : null;
        _redzones = new RedzonePolicy(redzone);
        DelayFreesBytes = delayFreesBytes;
        DelayFrees = delayFrees;
        ArenaStart = MapArena(arenaAddress, ArenaSize);
        _arenaEnd = ArenaStart + ArenaSize;
        _next = ArenaStart;
        _open = ArenaStart;
        _committed = ArenaStart;
        _state->ArenaStart = ArenaStart;
        _state->DelayFreesBytes = delayFreesBytes;
        _state->DelayFrees = delayFrees;
        _state->FixedRedzone = _redzones.Fixed ?? 0;
        _state->ShadowBase = shadow != null ? (byte*)shadow.Base : null;
        _state->FreshPattern = ShadowBits.Pattern(FreshState);
    }

    /// <summary>The heap's tables as the native fast path sees them (<see cref="HeapFastPath"/>).</summary>
    internal HeapFastPath.State* FastPathState => _state;

    /// <summary>
    /// Lets the native fast path serve this heap's common calls (the tool does while the program
    /// has one thread), unless a vfork child's journal must see every change.
    /// </summary>
    public bool FastPathAllowed
    {
        get => _fastPathAllowed;
        set
        {
            _fastPathAllowed = value;
            UpdateFastPath();
        }
    }

    private void UpdateFastPath() => _state->Enabled = _fastPathAllowed && !_arenaProtectedByProgram && _journal == null ? 1UL : 0;

    /// <summary>
    /// The program took some access away from part of the arena (mprotect of heap memory): the
    /// native fast path, which reads and writes the arena without fault recovery, stops for good.
    /// </summary>
    public void ArenaProtectedByProgram(ulong start, ulong length)
    {
        if (start >= _arenaEnd || start + length <= ArenaStart) return;
        _arenaProtectedByProgram = true;
        UpdateFastPath();
    }

    /// <summary>
    /// Whether the program ever took access away from arena memory: memory the heap writes for it
    /// (a block's tag, calloc's zeros) then goes through the fault-recovering copy.
    /// </summary>
    public bool MayBeProtectedByProgram => _arenaProtectedByProgram;

    /// <summary>Calls the native fast path finished (<c>--stats</c>).</summary>
    public ulong FastCalls => _state->Calls;

    private static ulong MapArena(ulong address, ulong size) => HostMemory.MapAnonymous(address, size, LibC.ProtNone, noReserve: true);

    /// <summary>Lets blocks be carved up to <paramref name="end"/>: the arena opened and the next step populated.</summary>
    private void Commit(ulong end)
    {
        if (end <= _committed) return;
        if (end > _open) Open(end);
        ulong step = Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2(_committed - ArenaStart), FirstPopulateStep, PopulateStep);
        ulong to = Math.Min(_open, RoundUp(end, step));
        if (to - _committed <= 2 * step)
        {
            HostMemory.Populate(_committed, to - _committed);
            _shadow?.Populate(_committed, to - _committed);
        }
        _committed = to;
        // What the arena held each time it grew (--stats): the last is what its peak is made of.
        AtLastGrowth = new ArenaMakeUp(to - ArenaStart, LiveBytes, LiveBlocks, _quarantinedBytes, _hoardedBytes, _free.Bytes);
    }

    /// <summary>The arena's extent and what filled it (requested bytes of live blocks; blocks with their redzones in quarantine and in the free lists; free ranges).</summary>
    public readonly record struct ArenaMakeUp(ulong Committed, ulong Live, ulong LiveBlocks, ulong Quarantined, ulong Held, ulong FreeRanges);

    /// <summary>The arena when it last grew: its largest extent and what it held then.</summary>
    public ArenaMakeUp AtLastGrowth { get; private set; }

    /// <summary>Opens the arena up to <paramref name="end"/> (rounded up to <see cref="OpenStep"/>); the new part is unaddressable until handed out.</summary>
    private void Open(ulong end)
    {
        ulong to = Math.Min(_arenaEnd, RoundUp(end, OpenStep));
        HostMemory.Protect(_open, to - _open, LibC.ProtRead | LibC.ProtWrite);
        _shadow?.Set(_open, to - _open, ShadowState.Unaddressable);
        Committed?.Invoke(_open, to - _open);
        _open = to;
    }

    private ulong RoundUp(ulong address, ulong step) => (address - ArenaStart + step - 1) / step * step + ArenaStart;

    public RedzonePolicy Redzones => _redzones;
    /// <summary>Where the blocks' callstacks are interned (the heap keeps their numbers).</summary>
    public static CallstackTable Stacks => CallstackCapture.Stacks;
    public ulong DelayFreesBytes { get; }
    /// <summary>At most this many freed blocks wait in quarantine (--delay-frees), however few bytes they hold.</summary>
    public ulong DelayFrees { get; }
    public ulong ArenaStart { get; }
    public ulong ArenaEnd => _arenaEnd;

    /// <summary>
    /// --track-origins: the block whose bytes hold <paramref name="address"/> now, as its slot and the
    /// identity a report names later (user address, size, allocation stack), found through the shadow:
    /// the last unaddressable byte below the address ends the block's left redzone, and the slot
    /// number sits just below its user address. Null outside a block's payload.
    /// </summary>
    public unsafe OriginBlock? OriginBlockAt(ulong address)
    {
        if (_shadow == null || !InArena(address) || address >= _next) return null;
        byte* shadow = (byte*)_shadow.Base;
        ulong index = address >> 2;
        // The lanes of the address's own shadow byte at and below it, then whole bytes downwards.
        int lane = (int)(address & 3);
        byte own = shadow[index];
        for (int l = lane; l >= 0; l--)
            if (((own >> (2 * l)) & 3) == 3)
                return l == lane ? null : Resolved((index << 2) + (ulong)l + 1);
        ulong low = ArenaStart >> 2;
        for (ulong i = index; i > low;)
        {
            // Eight shadow bytes (32 lanes) at a time once aligned: a lane 11 has both its bits set,
            // and the highest such lane ends the redzone.
            if ((i & 7) == 0 && i - 8 >= low)
            {
                i -= 8;
                ulong w = *(ulong*)(shadow + i);
                ulong m = w & (w >> 1) & 0x5555555555555555UL;
                if (m != 0) return Resolved((i << 2) + (ulong)(System.Numerics.BitOperations.Log2(m) / 2) + 1);
                continue;
            }
            i--;
            byte b = shadow[i];
            ulong m8 = (ulong)(b & (b >> 1) & 0x55);
            if (m8 != 0) return Resolved((i << 2) + (ulong)(System.Numerics.BitOperations.Log2(m8) / 2) + 1);
        }
        return null;
    }

    /// <summary>Whether the block <paramref name="block"/> named is still the one whose payload holds <paramref name="address"/> (no shadow walk).</summary>
    public bool StillHolds(OriginBlock block, ulong address)
    {
        ref readonly ChunkTable.Entry e = ref _chunks.At(block.Slot);
        return e.User == block.User && e.AllocStack == block.AllocStack && !e.Freed && address - block.User < block.Size;
    }

    private OriginBlock? Resolved(ulong user)
    {
        if (!IsBlockAddress(user)) return null;
        int slot = _chunks.SlotOf(user);
        if (slot < 0) return null;
        ref readonly ChunkTable.Entry e = ref _chunks.At(slot);
        return new OriginBlock(slot, e.User, e.Size, e.AllocStack, e.Kind, e.Routine);
    }

    /// <summary>
    /// The block an origin named when it was read (<see cref="OriginBlockAt"/>): the block itself while
    /// its slot still holds it (with its free stack once freed), else as it was, freed since.
    /// </summary>
    public HeapChunk ChunkOf(OriginBlock block)
    {
        ref readonly ChunkTable.Entry e = ref _chunks.At(block.Slot);
        if (e.User == block.User && e.AllocStack == block.AllocStack && e.Size == block.Size) return _chunks.Chunk(block.Slot);
        return new HeapChunk(block.User, block.Size, block.User, block.Size, block.Kind, Stacks[block.AllocStack], block.Routine) { FreedSince = true };
    }

    /// <summary>Whether <paramref name="address"/> lies in the arena the heap's blocks are carved from.</summary>
    public bool InArena(ulong address) => address >= ArenaStart && address < _arenaEnd;
    /// <summary>Where the arena's never-used (or given back) end begins.</summary>
    public ulong Top => _next;
    public Action<HeapError>? Errors { get; set; }
    /// <summary>
    /// The most the program's live bytes may come to (its own RLIMIT_AS/RLIMIT_DATA, which memcheck keeps
    /// from the kernel): a request that would pass it fails, as the program's allocator would fail
    /// natively. Checked where the arena grows; what the free lists and held blocks already have is given.
    /// </summary>
    public Func<ulong>? Limit { get; set; }
    /// <summary>In a vfork child: records every change for the parent to repeat (see <see cref="HeapJournal"/>).</summary>
    public HeapJournal? Journal
    {
        get => _journal;
        set
        {
            _journal = value;
            UpdateFastPath();
        }
    }
    /// <summary>Part of the arena opened for blocks (start, length): the engine records it as the guest's memory.</summary>
    public Action<ulong, ulong>? Committed { get; set; }
    /// <summary>The live blocks, as chunks made now (the leak scan's).</summary>
    public IReadOnlyCollection<HeapChunk> LiveChunks => _chunks.Live();

    /// <summary>Bytes the program asked for in its live blocks, and how many blocks.</summary>
    public ulong LiveBytes
    {
        get => _state->LiveBytes;
        private set => _state->LiveBytes = value;
    }
    public ulong LiveBlocks
    {
        get => _state->LiveBlocks;
        private set => _state->LiveBlocks = value;
    }
    /// <summary>Freed bytes (whole blocks) held back or free for reuse.</summary>
    public ulong FreeBytes => _quarantinedBytes + _hoardedBytes + _free.Bytes;
    public int FreeBlocks => _quarantine.Count + _reusable.Count + _free.Count;

    /// <summary>
    /// The state of a block's bytes when it is handed out: Undefined when definedness is checked
    /// (malloc's bytes were never written), else Defined (addressability only).
    /// </summary>
    public ShadowState FreshState
    {
        get => _freshState;
        init
        {
            _freshState = value;
            _state->FreshPattern = ShadowBits.Pattern(value);
        }
    }
    private readonly ShadowState _freshState = ShadowState.Defined;

    /// <summary>Copies the definedness of [from, from + length) to [to, ...) (realloc), side table included; set by the tool.</summary>
    public Action<ulong, ulong, ulong>? CopyDefinedness { get; set; }

    /// <summary>
    /// Marks what a replaced function wrote into the program's memory defined (mallinfo's struct,
    /// posix_memalign's pointer: often a fresh, undefined stack frame); unaddressable bytes stay so.
    /// Set by the tool when definedness is checked.
    /// </summary>
    public Action<ulong, ulong>? DefineWritten { get; set; }

    /// <summary>Marks a block's bytes defined (calloc's zeroes).</summary>
    public void Define(ulong user, ulong size) => _blockShadow?.Set(user, size, ShadowState.Defined);

    public bool IsHeapAddress(ulong address) => address >= ArenaStart && address < _next;

    /// <summary>Allocates <paramref name="size"/> bytes aligned to <paramref name="alignment"/>; 0 when the arena is exhausted.</summary>
    /// <param name="routine">The replaced routine the program called (<see cref="AllocationRoutines"/>), for its reports.</param>
    public ulong Allocate(ulong size, ulong alignment, AllocationKind kind, ulong[] stack, byte routine = 0) =>
        Allocate(size, alignment, kind, Stacks.InternId(stack), routine);

    /// <summary><see cref="Allocate(ulong, ulong, AllocationKind, ulong[], byte)"/> with the callstack's number in <see cref="Stacks"/>.</summary>
    public ulong Allocate(ulong size, ulong alignment, AllocationKind kind, int stack, byte routine = 0)
    {
        alignment = Math.Max(alignment, MinimumAlignment);
        if (size > MaxRequest || alignment > MaxRequest) return 0;
        ulong redzone = _redzones.For(size);
        ulong body = (Math.Max(size, 1) + MinimumAlignment - 1) & ~(MinimumAlignment - 1);
        ulong blockSize = redzone + body + redzone;
        // A small block takes its class's size (the fast path's placement): the slack is right redzone.
        if (alignment == MinimumAlignment && ReusableBlocks.ClassSize(blockSize) <= SmallBlock) blockSize = ReusableBlocks.ClassSize(blockSize);
        ulong user;
        ulong blockStart;
        if (alignment == MinimumAlignment && blockSize <= SmallBlock
            && (_reusable.TryTake(blockSize, out blockStart) || _reusable.HeldAbove(blockSize) is > 0 and ulong larger && _reusable.TryTake(blockSize = larger, out blockStart)))
        {
            _hoardedBytes -= blockSize;
            user = blockStart + redzone;
            // The recycled block is unaddressable from its free: open the program's bytes only.
            _blockShadow?.Set(user, size, FreshState);
        }
        else if (_free.TryTake(redzone, blockSize - 2 * redzone, alignment, out blockStart, out user)
            || (HoardOutgrewHeap() && _free.TryTake(redzone, blockSize - 2 * redzone, alignment, out blockStart, out user)))
        {
            blockSize = user + blockSize - redzone - blockStart;
            _blockShadow?.Set(user, size, FreshState);   // free space is unaddressable
        }
        else
        {
            user = (_next + redzone + alignment - 1) & ~(alignment - 1);
            blockStart = user - redzone;
            if (blockStart + blockSize > _arenaEnd || LiveBytes + size > (Limit?.Invoke() ?? ulong.MaxValue))
            {
                // The free lists may have been merged on the way here: a change to repeat too.
                Journal?.Allocated(size, alignment, kind, Stacks[stack], 0, routine);
                return 0;
            }
            Commit(blockStart + blockSize);
            ulong previous = _next;
            _next = blockStart + blockSize;
            if (_shadow != null)
            {
                _shadow.Set(previous, user - previous, ShadowState.Unaddressable);
                _blockShadow!.Set(user, size, FreshState);
                _shadow.Set(user + size, _next - (user + size), ShadowState.Unaddressable);
            }
            // An alignment gap before the block is free space.
            if (blockStart > previous) Release(previous, blockStart - previous);
        }
        if (_arenaProtectedByProgram && !GuestMemory.TryWriteUInt64(user - 8, 0))
        {
            // The program took access away from the block's memory: natively the allocator's own
            // write of its header faults there, so it is the program's SIGSEGV at the call.
            _shadow?.Set(blockStart, blockSize, ShadowState.Unaddressable);
            Release(blockStart, blockSize);
            throw new GuestMemoryFault(user - 8, 8, write: true);
        }
        _chunks.Add(user, size, blockStart, blockSize, kind, stack, routine);
        LiveBytes += size;
        LiveBlocks++;
        Journal?.Allocated(size, alignment, kind, Stacks[stack], user, routine);
        return user;
    }

    /// <summary>Frees <paramref name="address"/> as <paramref name="kind"/> asks; false (after reporting) when the argument is invalid.</summary>
    public bool Free(ulong address, AllocationKind kind, string routine, ulong[] stack) =>
        Free(address, kind, routine, Stacks.InternId(stack));

    /// <summary><see cref="Free(ulong, AllocationKind, string, ulong[])"/> with the callstack's number in <see cref="Stacks"/>.</summary>
    public bool Free(ulong address, AllocationKind kind, string routine, int stack)
    {
        if (address == 0) return true;
        Journal?.Freed(address, kind, routine, Stacks[stack]);
        int slot = IsBlockAddress(address) ? _chunks.SlotOf(address) : -1;
        if (slot < 0 || _chunks.At(slot).Freed)
        {
            HeapChunk? freed = slot >= 0 ? _chunks.Chunk(slot) : null;
            Report(freed != null ? HeapErrorKind.DoubleFree : Classify(address), routine, address, Stacks[stack], freed);
            return false;
        }
        if (_chunks.At(slot).Kind != kind)
            Errors?.Invoke(new HeapError(HeapErrorKind.MismatchedFree, routine, address, Stacks[stack], _chunks.Chunk(slot)));
        _chunks.MarkFreed(slot, stack);
        ref readonly ChunkTable.Entry block = ref _chunks.At(slot);
        LiveBytes -= block.Size;
        LiveBlocks--;
        _blockShadow?.Set(block.User, block.Size, ShadowState.Unaddressable);
        _quarantine.Add(slot, block.BlockStart, block.BlockSize);
        _quarantinedBytes += block.BlockSize;
        while ((_quarantinedBytes > DelayFreesBytes || (ulong)_quarantine.Count > DelayFrees) && _quarantine.Count > 1)
        {
            Recycle(in _quarantine.Oldest);
            _quarantine.RemoveOldest();
        }
        return true;
    }

    /// <summary>A hint that <paramref name="address"/> is about to be freed (see <see cref="ChunkTable.Prefetch"/>).</summary>
    public void Prefetch(ulong address)
    {
        if (IsBlockAddress(address)) _chunks.Prefetch(address);
    }

    /// <summary>The live block at <paramref name="user"/>, as a chunk made now.</summary>
    public HeapChunk? FindLive(ulong user) => LiveSlot(user) is int slot and >= 0 ? _chunks.Chunk(slot) : null;

    /// <summary>The size the program asked for of the live block at <paramref name="user"/> (realloc, malloc_usable_size: no chunk made).</summary>
    public bool TryGetLiveSize(ulong user, out ulong size)
    {
        int slot = LiveSlot(user);
        size = slot >= 0 ? _chunks.At(slot).Size : 0;
        return slot >= 0;
    }

    private int LiveSlot(ulong user) => IsBlockAddress(user) && _chunks.SlotOf(user) is int slot and >= 0 && !_chunks.At(slot).Freed ? slot : -1;

    // Every block's user address is 16-aligned and has its redzone (mapped arena) below it.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool IsBlockAddress(ulong user) => user >= ArenaStart + RedzonePolicy.Minimum && user < _next && (user & (MinimumAlignment - 1)) == 0;

    /// <summary>
    /// The block (live or quarantined) whose extent, redzones included, holds <paramref name="address"/>;
    /// first among the program's own allocator's blocks (<see cref="CustomBlocks"/>), which often lie
    /// inside a block of this heap.
    /// </summary>
    public HeapChunk? FindBlock(ulong address) =>
        CustomBlocks?.Invoke(address) ?? (_chunks.SlotContaining(address, liveOnly: false) is int slot and >= 0 ? _chunks.Chunk(slot) : null);

    /// <summary>Blocks of the program's own allocators (client requests: MALLOCLIKE blocks, pool chunks) an address belongs to; set by the tool.</summary>
    public Func<ulong, HeapChunk?>? CustomBlocks { get; set; }

    /// <summary>
    /// malloc_trim: merges the small free lists into the free ranges and gives every whole free
    /// page back to the kernel; true when any memory was released.
    /// </summary>
    public bool Trim()
    {
        Journal?.Trimmed();
        ulong before = _next;
        MergeHoard();
        return DiscardFreePages() || _next < before;
    }

    private HeapErrorKind Classify(ulong address) =>
        FindInterior(address) != null ? HeapErrorKind.FreeOfInteriorPointer : HeapErrorKind.FreeOfNonHeapAddress;

    private HeapChunk? FindInterior(ulong address) => _chunks.SlotContaining(address, liveOnly: true) is int slot and >= 0 ? _chunks.Chunk(slot) : null;

    private void Report(HeapErrorKind kind, string routine, ulong address, ulong[] stack, HeapChunk? freed)
    {
        HeapChunk? chunk = kind switch
        {
            HeapErrorKind.DoubleFree => freed,
            HeapErrorKind.FreeOfInteriorPointer => FindInterior(address),
            _ => null,
        };
        Errors?.Invoke(new HeapError(kind, routine, address, stack, chunk));
    }

    /// <summary>A block leaves quarantine: its space becomes reusable.</summary>
    private void Recycle(in QuarantinedBlock block)
    {
        _chunks.Remove(block.Slot);
        _quarantinedBytes -= block.BlockSize;
        if (block.BlockSize <= SmallBlock)
        {
            _reusable.Put(block.BlockSize, block.BlockStart);
            _hoardedBytes += block.BlockSize;
            return;
        }
        Release(block.BlockStart, block.BlockSize);
    }

    /// <summary>
    /// Free space into the ranges, merged with its neighbours (rejoining the arena's unused end if it
    /// touches it). Its pages stay resident for reuse (a buffer grown by realloc is copied into
    /// them) until the free space not yet given back passes the live heap and 32 MB: then every
    /// free range's whole pages go back to the kernel, which keeps resident memory within a small
    /// factor of the live heap.
    /// </summary>
    private void Release(ulong start, ulong length)
    {
        (ulong s, ulong e) = _free.Add(start, length);
        if (e == _next && _free.TryTakeEndingAt(e, out s))
        {
            _next = s;
            ReleasePages(s, e);   // the arena's unused end holds nothing
        }
        _undiscardedBytes += length;
        if (_undiscardedBytes > ResidentFreeFloor && _undiscardedBytes > LiveBytes) DiscardFreePages();
    }

    private bool DiscardFreePages()
    {
        bool released = false;
        foreach ((ulong start, ulong end) in _free.Ranges) released |= ReleasePages(start, end);
        _undiscardedBytes = 0;
        return released;
    }

    private static bool ReleasePages(ulong start, ulong end)
    {
        ulong from = HostMemory.PageUp(start), to = HostMemory.PageDown(end);
        return from < to && HostMemory.Discard(from, to - from);
    }

    /// <summary>
    /// The arena is about to grow: if the small lists hold more than the live heap (and 16 MB),
    /// their sizes are not being asked for again; merge them into the free ranges (true: try those
    /// first). Tied to growth, not to frees, so a program that frees much and then allocates the
    /// same sizes again keeps its fast lists.
    /// </summary>
    private bool HoardOutgrewHeap()
    {
        if (_hoardedBytes < HoardFloor || _hoardedBytes < LiveBytes) return false;
        MergeHoard();
        return true;
    }

    private void MergeHoard()
    {
        foreach ((ulong blockStart, ulong blockSize) in _reusable.TakeAll()) Release(blockStart, blockSize);
        _hoardedBytes = 0;
    }
}
