using Checker.Engine.Native;
using Checker.Shadow;

namespace Checker.Engine.Heap;

/// <summary>
/// The replacement allocator behind the intercepted malloc family (Dr. Memory replaces the
/// allocator by default too). Blocks are carved from one private arena with a redzone on both
/// sides of every block; freed blocks wait in a FIFO quarantine (delayed frees) before their space
/// is reused, so a stale pointer keeps pointing at freed memory for a while; realloc always moves.
/// Per block it keeps the requested size, the allocating family and the allocation and free
/// callstacks. Errors in arguments (double free, free of a non-heap or interior pointer, mismatched
/// families) are handed to <see cref="Errors"/>, never printed here. With a shadow, the program's
/// bytes of a live block are addressable and everything else the arena hands out (redzones,
/// alignment gaps, the padding after an odd size, freed blocks) is unaddressable.
/// </summary>
public sealed class GuestHeap
{
    private const ulong ArenaSize = 64UL << 30;
    private const ulong MinimumAlignment = 16;

    // Live and quarantined blocks by user address (one table: a free only flips the chunk's state).
    private readonly ChunkTable _chunks = new();
    private readonly Queue<HeapChunk> _quarantine = new();
    private readonly ReusableBlocks _reusable = new();
    private readonly ulong _arenaEnd;
    private ulong _next;
    private ulong _quarantinedBytes;

    private readonly ShadowMemory? _shadow;

    /// <param name="arenaAddress">Where the arena goes (0: wherever the kernel puts it): the engine keeps it in the guest's region.</param>
    public GuestHeap(ulong redzone, ulong delayFreesBytes, ShadowMemory? shadow = null, ulong arenaAddress = 0)
    {
        _shadow = shadow;
        Redzone = Math.Max(MinimumAlignment, (redzone + MinimumAlignment - 1) & ~(MinimumAlignment - 1));
        DelayFreesBytes = delayFreesBytes;
        ArenaStart = HostMemory.MapAnonymous(arenaAddress, ArenaSize, LibC.ProtRead | LibC.ProtWrite, noReserve: true);
        _arenaEnd = ArenaStart + ArenaSize;
        _next = ArenaStart;
    }

    public ulong Redzone { get; }
    public ulong DelayFreesBytes { get; }
    public ulong ArenaStart { get; }
    public ulong ArenaEnd => _arenaEnd;
    public Action<HeapError>? Errors { get; set; }
    public IReadOnlyCollection<HeapChunk> LiveChunks => _chunks.Where(c => !c.Freed);

    public bool IsHeapAddress(ulong address) => address >= ArenaStart && address < _next;

    /// <summary>Allocates <paramref name="size"/> bytes aligned to <paramref name="alignment"/>; 0 when the arena is exhausted.</summary>
    public ulong Allocate(ulong size, ulong alignment, AllocationKind kind, ulong[] stack)
    {
        alignment = Math.Max(alignment, MinimumAlignment);
        if (size > ArenaSize) return 0;
        ulong body = (Math.Max(size, 1) + MinimumAlignment - 1) & ~(MinimumAlignment - 1);
        ulong blockSize = Redzone + body + Redzone;
        ulong user;
        ulong blockStart;
        if (alignment == MinimumAlignment && _reusable.TryTake(blockSize, out blockStart))
        {
            user = blockStart + Redzone;
            // The recycled block is unaddressable from its free: open the program's bytes only.
            _shadow?.Set(user, size, ShadowState.Defined);
        }
        else
        {
            user = (_next + Redzone + alignment - 1) & ~(alignment - 1);
            blockStart = user - Redzone;
            blockSize = Redzone + body + Redzone;
            if (user + body + Redzone > _arenaEnd) return 0;
            ulong previous = _next;
            _next = user + body + Redzone;
            if (_shadow != null)
            {
                _shadow.Set(previous, user - previous, ShadowState.Unaddressable);
                _shadow.Set(user, size, ShadowState.Defined);
                _shadow.Set(user + size, _next - (user + size), ShadowState.Unaddressable);
            }
        }
        var chunk = new HeapChunk(user, size, blockStart, blockSize, kind, stack);
        _chunks.Add(chunk);
        return user;
    }

    /// <summary>Frees <paramref name="address"/> as <paramref name="kind"/> asks; false (after reporting) when the argument is invalid.</summary>
    public bool Free(ulong address, AllocationKind kind, string routine, ulong[] stack)
    {
        if (address == 0) return true;
        HeapChunk? chunk = Find(address);
        if (chunk == null || chunk.Freed)
        {
            Report(chunk != null ? HeapErrorKind.DoubleFree : Classify(address), routine, address, stack, chunk);
            return false;
        }
        if (chunk.Kind != kind)
            Errors?.Invoke(new HeapError(HeapErrorKind.MismatchedFree, routine, address, stack, chunk));
        chunk.FreeStack = stack;
        _shadow?.Set(chunk.User, chunk.Size, ShadowState.Unaddressable);
        _quarantine.Enqueue(chunk);
        _quarantinedBytes += chunk.BlockSize;
        while (_quarantinedBytes > DelayFreesBytes && _quarantine.Count > 1) Recycle(_quarantine.Dequeue());
        return true;
    }

    public HeapChunk? FindLive(ulong user) => Find(user) is HeapChunk chunk && !chunk.Freed ? chunk : null;

    // Every block's user address is 16-aligned and has its redzone (mapped arena) below it.
    private HeapChunk? Find(ulong user) =>
        user >= ArenaStart + Redzone && user < _next && (user & (MinimumAlignment - 1)) == 0 ? _chunks.Find(user) : null;

    /// <summary>The block (live or quarantined) whose extent, redzones included, holds <paramref name="address"/>.</summary>
    public HeapChunk? FindBlock(ulong address) => _chunks.FirstOrDefault(c => c.ContainsBlockAddress(address));

    private HeapErrorKind Classify(ulong address) =>
        FindInterior(address) != null ? HeapErrorKind.FreeOfInteriorPointer : HeapErrorKind.FreeOfNonHeapAddress;

    private HeapChunk? FindInterior(ulong address) => _chunks.FirstOrDefault(c => !c.Freed && c.ContainsBlockAddress(address));

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

    private void Recycle(HeapChunk chunk)
    {
        _chunks.Remove(chunk);
        _quarantinedBytes -= chunk.BlockSize;
        if (chunk.BlockStart + chunk.BlockSize > _next) return;
        _reusable.Put(chunk.BlockSize, chunk.BlockStart);
    }
}
