using Checker.MemcheckTool.Heap;
using Checker.Shadow;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// The MEMPOOL family: a pool is named by an anchor address and has a redzone size, whether its
/// chunks come zeroed, and VALGRIND_CREATE_MEMPOOL_EXT's flags (auto-free: freeing a chunk frees
/// the MALLOCLIKE blocks inside it; metapool: its chunks are superblocks for such blocks, which the
/// leak check then takes instead, as it takes any block inside another: <see cref="LeakCandidates"/>). A request naming no pool is Valgrind's "illegal memory pool
/// address"; freeing a chunk the pool does not have is an invalid free.
/// </summary>
internal sealed partial class CustomBlocks
{
    private const ulong AutoFreeFlag = 1;

    private sealed class Pool(ulong redzone, bool zeroed, ulong flags)
    {
        public ulong Redzone { get; } = redzone;
        public bool Zeroed { get; } = zeroed;
        public bool AutoFree { get; } = (flags & AutoFreeFlag) != 0;
        public Dictionary<ulong, HeapChunk> Chunks { get; init; } = new();
    }

    private readonly Dictionary<ulong, Pool> _pools = new();

    /// <summary>A pool created again keeps its chunks and takes the new redzone, zeroing and flags (Valgrind stops on it).</summary>
    public void CreatePool(ulong anchor, ulong redzone, bool zeroed, ulong flags) =>
        _pools[anchor] = new Pool(redzone, zeroed, flags) { Chunks = _pools.TryGetValue(anchor, out Pool? old) ? old.Chunks : new() };

    /// <summary>Every chunk of the pool becomes unaddressable with its redzones, and is forgotten.</summary>
    public void DestroyPool(ulong anchor, ulong[] stack)
    {
        if (!_pools.Remove(anchor, out Pool? pool))
        {
            ReportIllegalPool("VALGRIND_DESTROY_MEMPOOL", anchor, stack);
            return;
        }
        foreach (HeapChunk chunk in pool.Chunks.Values)
        {
            ulong below = Math.Min(chunk.User, pool.Redzone);
            shadow.Set(chunk.User - below, Add(below + chunk.Size, pool.Redzone), ShadowState.Unaddressable);
        }
    }

    public void PoolAlloc(ulong anchor, ulong user, ulong size, ulong[] stack)
    {
        if (PoolOf("VALGRIND_MEMPOOL_ALLOC", anchor, stack) is not Pool pool || !Plausible(user, size)) return;
        pool.Chunks[user] = NewBlock(user, size, pool.Redzone, pool.Zeroed, stack);
    }

    public void PoolFree(ulong anchor, ulong user, ulong[] stack)
    {
        if (PoolOf("VALGRIND_MEMPOOL_FREE", anchor, stack) is not Pool pool) return;
        if (!pool.Chunks.Remove(user, out HeapChunk? chunk))
        {
            ReportBadFree("VALGRIND_MEMPOOL_FREE", user, stack);
            return;
        }
        if (pool.AutoFree)
        {
            // The MALLOCLIKE blocks carved from this chunk go with it.
            foreach (HeapChunk inner in _mallocLike.Values.Where(b => b.User >= chunk.User && b.User + b.Size <= chunk.User + chunk.Size).ToList())
            {
                _mallocLike.Remove(inner.User);
                Die(inner, 0, stack);
            }
        }
        Die(chunk, pool.Redzone, stack);
    }

    /// <summary>
    /// VALGRIND_MEMPOOL_TRIM: chunks with neither end inside [start, start + size) are freed (as
    /// Valgrind does, a chunk spanning the whole range too), chunks across one of its ends keep only
    /// their part inside (the rest unaddressable), chunks inside stay.
    /// </summary>
    public void PoolTrim(ulong anchor, ulong start, ulong size, ulong[] stack)
    {
        if (PoolOf("VALGRIND_MEMPOOL_TRIM", anchor, stack) is not Pool pool) return;
        ulong end = Add(start, size);
        bool Inside(ulong a) => a >= start && a < end;
        foreach (HeapChunk chunk in pool.Chunks.Values.ToList())
        {
            ulong lo = chunk.User, hi = chunk.Size == 0 ? chunk.User : chunk.User + chunk.Size - 1;
            if (Inside(lo) && Inside(hi)) continue;
            pool.Chunks.Remove(chunk.User);
            if (!Inside(lo) && !Inside(hi))
            {
                Die(chunk, pool.Redzone, stack);
                continue;
            }
            ulong keptFrom = Math.Max(lo, start), keptTo = Math.Min(chunk.User + chunk.Size, end);
            if (keptFrom > lo) shadow.Set(lo, keptFrom - lo, ShadowState.Unaddressable);
            if (chunk.User + chunk.Size > keptTo) shadow.Set(keptTo, chunk.User + chunk.Size - keptTo, ShadowState.Unaddressable);
            pool.Chunks[keptFrom] = Resized(chunk, keptFrom, keptTo - keptFrom);
        }
    }

    /// <summary>VALGRIND_MOVE_MEMPOOL: the pool's anchor changes; its chunks stay.</summary>
    public void MovePool(ulong from, ulong to, ulong[] stack)
    {
        if (!_pools.Remove(from, out Pool? pool))
        {
            ReportIllegalPool("VALGRIND_MOVE_MEMPOOL", from, stack);
            return;
        }
        _pools[to] = pool;
    }

    /// <summary>VALGRIND_MEMPOOL_CHANGE: a chunk moved or resized (by realloc inside the pool); the shadow is the program's to set.</summary>
    public void PoolChange(ulong anchor, ulong from, ulong to, ulong size, ulong[] stack)
    {
        if (PoolOf("VALGRIND_MEMPOOL_CHANGE", anchor, stack) is not Pool pool || !Plausible(to, size)) return;
        if (!pool.Chunks.Remove(from, out HeapChunk? chunk))
        {
            ReportBadFree("VALGRIND_MEMPOOL_CHANGE", from, stack);
            return;
        }
        pool.Chunks[to] = Resized(chunk, to, size);
    }

    public bool PoolExists(ulong anchor) => _pools.ContainsKey(anchor);

    private Pool? PoolOf(string request, ulong anchor, ulong[] stack)
    {
        if (_pools.TryGetValue(anchor, out Pool? pool)) return pool;
        ReportIllegalPool(request, anchor, stack);
        return null;
    }

    private void ReportIllegalPool(string request, ulong anchor, ulong[] stack) =>
        Errors?.Invoke(new HeapError(HeapErrorKind.IllegalMempool, request, anchor, stack, null));
}
