using System.Runtime.Versioning;
using Checker.MemcheckTool.Heap;
using Checker.Shadow;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// Blocks of the program's own allocators, as it describes them through client requests:
/// VALGRIND_MALLOCLIKE_BLOCK / FREELIKE_BLOCK / RESIZEINPLACE_BLOCK here, the MEMPOOL family in
/// CustomBlocks.Pools.cs. Each is a <see cref="HeapChunk"/> (address, size, allocation and free
/// stacks) kept apart from the replacement heap's table, whose chunks carry a slot number in their
/// arena redzone: the program's memory is never written. The shadow is set as Valgrind's memcheck
/// sets it: a new block undefined (defined when the allocator says it is zeroed), its redzones
/// unaddressable, a freed block and its redzones unaddressable. Errors in the requests' arguments
/// are <see cref="HeapError"/>s, reported as the heap's are. Callers hold the cache lock.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class CustomBlocks(RequestShadow shadow, ShadowState fresh, ulong delayFreesBytes)
{
    /// <summary>Valgrind describes an address this far from a block as near it (its default malloc redzone).</summary>
    private const ulong DescriptionMargin = 16;

    private readonly Dictionary<ulong, HeapChunk> _mallocLike = new();
    private readonly FreedCustomBlocks _freed = new(delayFreesBytes);

    public Action<HeapError>? Errors { get; set; }

    /// <summary>Every live custom block: MALLOCLIKE blocks and the chunks of every pool.</summary>
    public IEnumerable<HeapChunk> Live => _mallocLike.Values.Concat(_pools.Values.SelectMany(p => p.Chunks.Values));

    public void MallocLike(ulong user, ulong size, ulong redzone, bool zeroed, ulong[] stack)
    {
        if (Plausible(user, size)) _mallocLike[user] = NewBlock(user, size, redzone, zeroed, stack);
    }

    /// <summary>a + b, or the largest value when that wraps (a redzone the program gives can be anything).</summary>
    private static ulong Add(ulong a, ulong b) => b > ulong.MaxValue - a ? ulong.MaxValue : a + b;

    /// <summary>A block inside the 47-bit user space; anything else is ignored (no program has it, and sums over it would wrap).</summary>
    private static bool Plausible(ulong user, ulong size) => user < ShadowMemory.AddressLimit && size <= ShadowMemory.AddressLimit - user;

    /// <summary>
    /// Whether the program runs an allocator of its own that memcheck leaves unreplaced
    /// (<see cref="Engine.Interception.FunctionInterceptor.ProgramWithOwnAllocator"/>).
    /// </summary>
    public Func<bool>? UntrackedAllocator { get; set; }

    public void FreeLike(ulong user, ulong redzone, ulong[] stack)
    {
        if (!_mallocLike.Remove(user, out HeapChunk? chunk))
        {
            ReportBadFree("VALGRIND_FREELIKE_BLOCK", user, stack);
            return;
        }
        if (UntrackedAllocator?.Invoke() == true) Release(chunk, redzone);
        else Die(chunk, redzone, stack);
    }

    /// <summary>
    /// A block freed in a program whose own allocator memcheck does not run: the memory under it goes
    /// back to that allocator unseen and is handed out again with no client request (GLib describes
    /// its objects with MALLOCLIKE/FREELIKE over memory from malloc, which in Chromium is
    /// PartitionAlloc's). Left unaddressable, each later use of that memory read as a use after free
    /// (Chromium: ~260 such reports a run). It returns to the state of memory memcheck does not
    /// track: defined, and not remembered as freed. Valgrind replaces such an executable's malloc,
    /// which memcheck cannot do for Chromium's (see FunctionInterceptor).
    /// </summary>
    private void Release(HeapChunk chunk, ulong redzone)
    {
        ulong below = Math.Min(chunk.User, redzone);
        shadow.Set(chunk.User - below, Add(below + chunk.Size, redzone), ShadowState.Defined);
    }

    /// <summary>VALGRIND_RESIZEINPLACE_BLOCK: shrinking closes the tail (and a redzone past it), growing opens it undefined.</summary>
    public void ResizeInPlace(ulong user, ulong oldSize, ulong newSize, ulong redzone, ulong[] stack)
    {
        if (!_mallocLike.TryGetValue(user, out HeapChunk? chunk) || chunk.Size != oldSize || newSize == 0 || !Plausible(user, newSize))
        {
            ReportBadFree("VALGRIND_RESIZEINPLACE_BLOCK", user, stack);
            return;
        }
        if (oldSize == newSize) return;
        _mallocLike[user] = Resized(chunk, user, newSize);
        if (newSize < oldSize) shadow.Set(user + newSize, Add(oldSize - newSize, redzone), ShadowState.Unaddressable);
        else
        {
            shadow.Set(user + oldSize, newSize - oldSize, fresh);
            if (redzone > 0) shadow.Set(user + newSize, redzone, ShadowState.Unaddressable);
        }
    }

    /// <summary>
    /// The custom block an error at <paramref name="address"/> is about, in Valgrind's order: a live
    /// block holding it, a freed one holding it (use after free), then one near it (an overflow).
    /// </summary>
    public HeapChunk? Find(ulong address)
    {
        HeapChunk? near = null;
        foreach (HeapChunk chunk in Live)
        {
            if (address >= chunk.User && address < chunk.User + chunk.Size) return chunk;
            if (near == null && chunk.ContainsBlockAddress(address)) near = chunk;
        }
        return _freed.Holding(address) ?? near ?? _freed.Near(address);
    }

    /// <summary>A block handed out: recorded, its bytes opened (undefined unless zeroed), its redzones closed.</summary>
    private HeapChunk NewBlock(ulong user, ulong size, ulong redzone, bool zeroed, ulong[] stack)
    {
        shadow.Set(user, size, zeroed ? ShadowState.Defined : fresh);
        if (redzone > 0)
        {
            shadow.Set(user - Math.Min(user, redzone), Math.Min(user, redzone), ShadowState.Unaddressable);
            shadow.Set(user + size, redzone, ShadowState.Unaddressable);
        }
        return Chunk(user, size, stack);
    }

    private static HeapChunk Chunk(ulong user, ulong size, ulong[] stack)
    {
        ulong margin = Math.Min(user, DescriptionMargin);
        return new HeapChunk(user, size, user - margin, size + margin + DescriptionMargin, AllocationKind.Malloc, stack);
    }

    /// <summary>The same block (its allocation stack kept) at another address or size.</summary>
    private static HeapChunk Resized(HeapChunk chunk, ulong user, ulong size) => Chunk(user, size, chunk.AllocStack);

    /// <summary>A block freed: it and its redzones become unaddressable, and it is remembered for descriptions.</summary>
    private void Die(HeapChunk chunk, ulong redzone, ulong[] stack)
    {
        ulong below = Math.Min(chunk.User, redzone);
        shadow.Set(chunk.User - below, Add(below + chunk.Size, redzone), ShadowState.Unaddressable);
        chunk.FreeStack = stack;
        _freed.Add(chunk);
    }

    /// <summary>A free of something that is no live block of the kind: a double free when it was one, else an invalid free.</summary>
    private void ReportBadFree(string request, ulong user, ulong[] stack)
    {
        HeapChunk? freed = _freed.FreedAt(user);
        Errors?.Invoke(new HeapError(freed != null ? HeapErrorKind.DoubleFree : HeapErrorKind.UnknownCustomBlock, request, user, stack, freed));
    }
}
