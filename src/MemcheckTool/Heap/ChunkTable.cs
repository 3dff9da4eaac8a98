using Checker.Engine.Native;
using System.Runtime.CompilerServices;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The heap's blocks (live and quarantined) by user address, without hashing: each block gets a
/// slot, and the slot's number is written into the block's left redzone just below the user
/// address, where the program may not touch it without a report. A lookup reads that number and
/// accepts it only if the slot's block starts at the address, so a redzone the program overwrote
/// costs a scan, never a wrong answer. (Dr. Memory keeps its chunk header in the redzone too.)
/// </summary>
/// <remarks>
/// A slot is a value (<see cref="Entry"/>: addresses, sizes, family, routine, the callstacks'
/// numbers in the <see cref="CallstackTable"/>), so malloc and free store no object reference (each
/// a garbage-collector write barrier) and read no object allocated long before (a cache miss of its
/// own). A <see cref="HeapChunk"/> is made from a slot only when a report or the leak scan needs one.
/// </remarks>
/// <remarks>
/// The slots live in address space reserved once (<see cref="ReservedSlots"/>) and populated in
/// steps as slots are first handed out, so they never move, are never copied, and take no page fault
/// each (a page fault costs ~10 us on a PVM guest kernel; a pinned array doubled to 64 MB cost
/// strsort ~30,000 faults and left the old half as garbage). The free-slot array is pinned and its
/// counts live in the heap's <see cref="HeapFastPath.State"/>, which the native fast path
/// (heap_fastpath.c) reads and writes too: an array that grows is published there again.
/// </remarks>
public sealed unsafe class ChunkTable
{
    /// <summary>Where the slot number sits, below the user address (inside the minimum 16-byte redzone).</summary>
    private const ulong TagOffset = 8;

    /// <summary>
    /// A slot: one block, by value (laid out as heap_fastpath.c's struct chunk_entry), 32 bytes kept
    /// 32-aligned: a free reads a slot long out of the caches, and an aligned slot is one line (a
    /// 48-byte slot at an 8-aligned address lay across two lines most of the time). 64 bytes a block
    /// before: strsort's 700,000 strings took 48 MB of slots against its 36 MB peak natively. Sizes
    /// and the block's extent are packed: every block lies in the 64 GB arena, 16-byte aligned and a
    /// multiple of 16 long (<see cref="Granule"/>), a request is at most 32 GB (GuestHeap.MaxRequest).
    /// </summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = EntrySize)]
    public struct Entry
    {
        /// <summary>The block's user address; 0: the slot holds no block.</summary>
        [System.Runtime.InteropServices.FieldOffset(0)] public ulong User;
        [System.Runtime.InteropServices.FieldOffset(8)] private uint _sizeLow;
        [System.Runtime.InteropServices.FieldOffset(12)] private byte _sizeHigh;
        [System.Runtime.InteropServices.FieldOffset(13)] public AllocationKind Kind;
        /// <summary>The replaced routine that allocated it (<see cref="AllocationRoutines"/>).</summary>
        [System.Runtime.InteropServices.FieldOffset(14)] public byte Routine;
        [System.Runtime.InteropServices.FieldOffset(15)] public bool Freed;
        // User - BlockStart and BlockSize, in granules.
        [System.Runtime.InteropServices.FieldOffset(16)] private uint _leftGranules;
        [System.Runtime.InteropServices.FieldOffset(20)] private uint _blockGranules;
        /// <summary>The allocation and free callstacks' numbers in the <see cref="CallstackTable"/> (FreeStack once <see cref="Freed"/>).</summary>
        [System.Runtime.InteropServices.FieldOffset(24)] public int AllocStack;
        [System.Runtime.InteropServices.FieldOffset(28)] public int FreeStack;

        public readonly ulong Size => _sizeLow | (ulong)_sizeHigh << 32;
        public readonly ulong BlockStart => User - (ulong)_leftGranules * Granule;
        public readonly ulong BlockSize => (ulong)_blockGranules * Granule;
        /// <summary>Whether the slot holds a block.</summary>
        public readonly bool InUse => User != 0;

        /// <summary>Sets the block (user address last: it says the slot is in use).</summary>
        public void Set(ulong user, ulong size, ulong blockStart, ulong blockSize)
        {
            if (size >> 40 != 0 || user < blockStart || (user - blockStart) % Granule != 0 || blockSize % Granule != 0
                || (user - blockStart) / Granule > uint.MaxValue || blockSize / Granule > uint.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(size), $"block 0x{blockStart:x}+{blockSize} (user 0x{user:x}, {size} bytes) does not fit a slot");
            _sizeLow = (uint)size;
            _sizeHigh = (byte)(size >> 32);
            _leftGranules = (uint)((user - blockStart) / Granule);
            _blockGranules = (uint)(blockSize / Granule);
            User = user;
        }

        public readonly bool ContainsBlockAddress(ulong address) => address >= BlockStart && address < BlockStart + BlockSize;
    }

    /// <summary>A slot's size: half a cache line.</summary>
    public const int EntrySize = 32;

    /// <summary>Blocks start and end on this boundary (GuestHeap's minimum alignment).</summary>
    public const ulong Granule = 16;

    /// <summary>The most slots a heap can have: 8 GiB of address space, reserved, never committed up front.</summary>
    private const int ReservedSlots = 1 << 28;
    /// <summary>Slots populated at a time: 1 MiB, or an eighth of those populated so far if more.</summary>
    private const int PopulateSlots = (1 << 20) / EntrySize;

    private readonly CallstackTable stacks;
    private readonly HeapFastPath.State* _state;
    private readonly Entry* _slots;
    private int _capacity;   // slots populated (all zero until handed out)
    private int[] _freeSlots = null!;

    public ChunkTable(CallstackTable stacks, HeapFastPath.State* state)
    {
        this.stacks = stacks;
        _state = state;
        _slots = (Entry*)HostMemory.MapAnonymous(0, (ulong)ReservedSlots * EntrySize, LibC.ProtRead | LibC.ProtWrite, noReserve: true);
        _state->Slots = _slots;
        PopulateMoreSlots();
        PublishFreeSlots(GC.AllocateArray<int>(1024, pinned: true));
    }

    /// <summary>Populates the next step of slots and publishes the new count.</summary>
    private void PopulateMoreSlots()
    {
        if (_capacity == ReservedSlots)
            throw new InvalidOperationException($"the heap's table of blocks is full ({ReservedSlots:N0} blocks)");
        int more = Math.Min(Math.Max(PopulateSlots, _capacity / 8), ReservedSlots - _capacity);
        HostMemory.Populate((ulong)(_slots + _capacity), (ulong)more * EntrySize);
        _capacity += more;
        _state->SlotsLength = _capacity;
    }

    private void PublishFreeSlots(int[] freeSlots)
    {
        _freeSlots = freeSlots;
        _state->FreeSlots = (int*)Unsafe.AsPointer(ref freeSlots[0]);
        _state->FreeSlotsLength = freeSlots.Length;
    }

    // Slots [0, UsedSlots) have been handed out at least once.
    private int UsedSlots
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (int)_state->Used;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] set => _state->Used = value;
    }

    private int FreeSlotCount
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (int)_state->FreeCount;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] set => _state->FreeCount = value;
    }

    public int Count
    {
        get => (int)_state->ChunkCount;
        private set => _state->ChunkCount = value;
    }

    /// <summary>Adds a live block; returns its slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Add(ulong user, ulong size, ulong blockStart, ulong blockSize, AllocationKind kind, int allocStack, byte routine)
    {
        int slot = FreeSlotCount > 0 ? _freeSlots[--FreeSlotCount] : UsedSlots++;
        if (slot == _capacity) PopulateMoreSlots();
        ref Entry entry = ref _slots[slot];
        entry.AllocStack = allocStack;
        entry.FreeStack = 0;
        entry.Kind = kind;
        entry.Routine = routine;
        entry.Freed = false;
        entry.Set(user, size, blockStart, blockSize);
        *(ulong*)(user - TagOffset) = (ulong)slot;
        Count++;
        return slot;
    }

    /// <summary>Removes the block in <paramref name="slot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Remove(int slot)
    {
        _slots[slot].User = 0;
        if (FreeSlotCount == _freeSlots.Length) GrowFreeSlots();
        _freeSlots[FreeSlotCount++] = slot;
        Count--;
    }

    private void GrowFreeSlots()
    {
        int[] grown = GC.AllocateArray<int>(_freeSlots.Length * 2, pinned: true);
        _freeSlots.CopyTo(grown, 0);
        PublishFreeSlots(grown);
    }

    /// <summary>The slot of the block whose user address is <paramref name="user"/>, or -1; the caller guarantees the tag's bytes are mapped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int SlotOf(ulong user)
    {
        ulong tag = *(ulong*)(user - TagOffset);
        if (tag < (ulong)UsedSlots && _slots[tag].User == user) return (int)tag;   // a removed slot's User is 0
        return Scan(user);
    }

    /// <summary>
    /// Starts bringing in the slot the tag below <paramref name="user"/> names (a hint: nothing is
    /// checked or kept), so a free that first captures its callstack finds it in the cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(ulong user)
    {
        ulong tag = *(ulong*)(user - TagOffset);
        if (tag < (ulong)_capacity) System.Runtime.Intrinsics.X86.Sse.Prefetch0(_slots + tag);
    }

    /// <summary>The slot <paramref name="slot"/> (from <see cref="SlotOf"/>): its entry, to read.</summary>
    public ref readonly Entry At(int slot) => ref _slots[slot];

    /// <summary>The block in <paramref name="slot"/> was freed with the callstack numbered <paramref name="freeStack"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MarkFreed(int slot, int freeStack)
    {
        ref Entry entry = ref _slots[slot];
        entry.FreeStack = freeStack;
        entry.Freed = true;
    }

    /// <summary>The block in <paramref name="slot"/> as a <see cref="HeapChunk"/> (a copy made now, for a report or the leak scan).</summary>
    public HeapChunk Chunk(int slot)
    {
        ref readonly Entry e = ref _slots[slot];
        return new HeapChunk(e.User, e.Size, e.BlockStart, e.BlockSize, e.Kind, stacks[e.AllocStack], e.Routine)
        {
            FreeStack = e.Freed ? stacks[e.FreeStack] : null,
        };
    }

    // Apart from SlotOf, whose every call would otherwise allocate the closure a lambda over user needs.
    private int Scan(ulong user)
    {
        for (int i = 0; i < UsedSlots; i++)
            if (_slots[i].InUse && _slots[i].User == user) return i;
        return -1;
    }

    /// <summary>The first block (only a live one when <paramref name="liveOnly"/>) whose extent, redzones included, holds <paramref name="address"/>; -1 when none does.</summary>
    public int SlotContaining(ulong address, bool liveOnly)
    {
        for (int i = 0; i < UsedSlots; i++)
        {
            ref readonly Entry e = ref _slots[i];
            if (e.InUse && !(liveOnly && e.Freed) && e.ContainsBlockAddress(address)) return i;
        }
        return -1;
    }

    /// <summary>Every live block, as chunks.</summary>
    public List<HeapChunk> Live()
    {
        var found = new List<HeapChunk>(Count);
        for (int i = 0; i < UsedSlots; i++)
            if (_slots[i].InUse && !_slots[i].Freed) found.Add(Chunk(i));
        return found;
    }
}
