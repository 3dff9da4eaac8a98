using Checker.MemcheckTool.Heap;
using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>The replacement allocator on its own: layout, quarantine, reuse and argument checks.</summary>
public class GuestHeapTests
{
    private static readonly ulong[] Stack = [0x1234];

    private static (GuestHeap Heap, List<HeapError> Errors) NewHeap(ulong? redzone = 16, ulong delay = 1 << 20)
    {
        var heap = new GuestHeap(redzone, delay);
        var errors = new List<HeapError>();
        heap.Errors = errors.Add;
        return (heap, errors);
    }

    [Fact]
    public void BlocksAreAlignedSeparatedByRedzonesAndWritable()
    {
        var (heap, _) = NewHeap();
        var blocks = Enumerable.Range(1, 50).Select(i => (Size: (ulong)i * 7, User: heap.Allocate((ulong)i * 7, 16, AllocationKind.Malloc, Stack))).ToList();
        foreach (var (size, user) in blocks)
        {
            Assert.Equal(0UL, user % 16);
            HeapChunk chunk = heap.FindLive(user)!;
            Assert.Equal(size, chunk.Size);
            ulong redzone = heap.Redzones.For(size);
            Assert.True(chunk.BlockStart + redzone <= user && user + size + redzone <= chunk.BlockStart + chunk.BlockSize);
            unsafe { new Span<byte>((void*)user, (int)size).Fill(0xAB); }
        }
        var ordered = blocks.Select(b => heap.FindLive(b.User)!).OrderBy(c => c.BlockStart).ToList();
        for (int i = 1; i < ordered.Count; i++)
            Assert.True(ordered[i - 1].BlockStart + ordered[i - 1].BlockSize <= ordered[i].BlockStart, "blocks overlap");
    }

    [Fact]
    public void KeepsEveryBlockWhileItsTableGrowsStepByStep()
    {
        // The slots are populated 1 MiB (16,384 slots) at a time, then an eighth more: 200,000
        // blocks cross several steps, and blocks from the first step must still be found after.
        var (heap, errors) = NewHeap();
        ulong[] users = Enumerable.Range(0, 200_000).Select(i => heap.Allocate((ulong)(i % 40) + 1, 16, AllocationKind.Malloc, Stack)).ToArray();
        for (int i = 0; i < users.Length; i += 997)
            Assert.Equal((ulong)(i % 40) + 1, heap.FindLive(users[i])?.Size);
        foreach (ulong user in users) Assert.True(heap.Free(user, AllocationKind.Malloc, "free", Stack));
        Assert.Empty(errors);
        Assert.Null(heap.FindLive(users[^1]));
    }

    [Fact]
    public void ASlotKeepsTheLargestBlockAndPaddingTheArenaAllows()
    {
        // 32 bytes a slot: the size in 40 bits, the extent in 16-byte granules from the user address.
        const ulong user = 0x1008_0000_0000, size = (32UL << 30) - 5, pad = 16UL << 30;
        var entry = new ChunkTable.Entry();
        entry.Set(user, size, user - pad, pad + (32UL << 30) + 2048);
        Assert.Equal(32, System.Runtime.CompilerServices.Unsafe.SizeOf<ChunkTable.Entry>());
        Assert.True(entry.InUse);
        Assert.Equal(size, entry.Size);
        Assert.Equal(user - pad, entry.BlockStart);
        Assert.Equal(pad + (32UL << 30) + 2048, entry.BlockSize);
        Assert.True(entry.ContainsBlockAddress(user - pad) && !entry.ContainsBlockAddress(user - pad - 1));
        // What the packing cannot hold is refused, never truncated.
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkTable.Entry().Set(user, 1UL << 40, user - 16, (1UL << 40) + 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkTable.Entry().Set(user, 8, user - 8, 32));
    }

    [Theory]
    [InlineData(32UL)]
    [InlineData(64UL)]
    [InlineData(4096UL)]
    public void HonoursLargeAlignments(ulong alignment)
    {
        var (heap, _) = NewHeap();
        for (int i = 0; i < 10; i++)
            Assert.Equal(0UL, heap.Allocate(24, alignment, AllocationKind.Malloc, Stack) % alignment);
    }

    [Fact]
    public void FindsBlocksWhoseRedzoneTheProgramOverwrote()
    {
        // The chunk table's slot number lives in the left redzone; an underflow may clobber it.
        var (heap, errors) = NewHeap();
        ulong[] users = Enumerable.Range(0, 20).Select(_ => heap.Allocate(24, 16, AllocationKind.Malloc, Stack)).ToArray();
        unsafe { new Span<byte>((void*)(users[7] - 16), 16).Fill(0x03); }
        Assert.Equal(24UL, heap.FindLive(users[7])?.Size);
        Assert.True(heap.Free(users[7], AllocationKind.Malloc, "free", Stack));
        Assert.False(heap.Free(users[7], AllocationKind.Malloc, "free", Stack));
        Assert.Equal(HeapErrorKind.DoubleFree, Assert.Single(errors).Kind);
        Assert.Equal(19, heap.LiveChunks.Count);
    }

    [Fact]
    public void ClassifiesInvalidFrees()
    {
        var (heap, errors) = NewHeap();
        ulong a = heap.Allocate(10, 16, AllocationKind.Malloc, Stack);
        ulong b = heap.Allocate(32, 16, AllocationKind.New, Stack);

        Assert.True(heap.Free(a, AllocationKind.Malloc, "free", Stack));
        Assert.False(heap.Free(a, AllocationKind.Malloc, "free", Stack));
        Assert.False(heap.Free(b + 8, AllocationKind.New, "operator delete", Stack));
        Assert.False(heap.Free(0x1000, AllocationKind.Malloc, "free", Stack));
        Assert.True(heap.Free(b, AllocationKind.Malloc, "free", Stack));   // freed, but with the wrong family
        Assert.True(heap.Free(0, AllocationKind.Malloc, "free", Stack));   // free(NULL) is fine

        Assert.Equal(
            [HeapErrorKind.DoubleFree, HeapErrorKind.FreeOfInteriorPointer, HeapErrorKind.FreeOfNonHeapAddress, HeapErrorKind.MismatchedFree],
            errors.Select(e => e.Kind));
        Assert.Equal(a, errors[0].Chunk!.User);
        Assert.NotNull(errors[0].Chunk!.FreeStack);
        Assert.Equal(b, errors[1].Chunk!.User);
        Assert.Null(errors[2].Chunk);
    }

    [Fact]
    public void FreedBlocksWaitInQuarantineBeforeReuse()
    {
        var (heap, _) = NewHeap(delay: 4096);
        ulong first = heap.Allocate(100, 16, AllocationKind.Malloc, Stack);
        heap.Free(first, AllocationKind.Malloc, "free", Stack);
        // While quarantined, same-sized requests get fresh memory...
        ulong second = heap.Allocate(100, 16, AllocationKind.Malloc, Stack);
        Assert.NotEqual(first, second);
        // ...and once more than the delay has been freed after it, its space comes back.
        var reused = new HashSet<ulong>();
        for (int i = 0; i < 100; i++)
        {
            ulong x = heap.Allocate(100, 16, AllocationKind.Malloc, Stack);
            heap.Free(x, AllocationKind.Malloc, "free", Stack);
            reused.Add(heap.Allocate(100, 16, AllocationKind.Malloc, Stack));
        }
        Assert.Contains(first, reused);
    }

    [Theory]
    [InlineData(3UL, true)]
    [InlineData(ulong.MaxValue, false)]
    public void TheQuarantineHoldsAtMostDelayFreesBlocks(ulong delayFrees, bool firstTwoComeBack)
    {
        // Dr. Memory's -delay_frees: the count bounds the quarantine however few bytes it holds.
        var heap = new GuestHeap(16, 1 << 20, delayFrees: delayFrees);
        ulong[] freed = Enumerable.Range(0, 5).Select(_ => heap.Allocate(100, 16, AllocationKind.Malloc, Stack)).ToArray();
        foreach (ulong block in freed) heap.Free(block, AllocationKind.Malloc, "free", Stack);

        var next = Enumerable.Range(0, 3).Select(_ => heap.Allocate(100, 16, AllocationKind.Malloc, Stack)).ToHashSet();
        // The two oldest left the quarantine and are reused; the three newest still wait, freed.
        Assert.Equal(firstTwoComeBack, next.Contains(freed[0]) && next.Contains(freed[1]));
        Assert.DoesNotContain(freed[2], next);
        Assert.DoesNotContain(freed[3], next);
        Assert.DoesNotContain(freed[4], next);
    }

    [Theory]
    [InlineData(1UL, 16UL)]
    [InlineData(48UL, 16UL)]
    [InlineData(49UL, 32UL)]
    [InlineData(100UL, 64UL)]
    [InlineData(448UL, 64UL)]
    [InlineData(3968UL, 128UL)]
    [InlineData(4000UL, 256UL)]
    [InlineData(64512UL, 1024UL)]
    [InlineData(64513UL, 2048UL)]
    [InlineData(1UL << 30, 2048UL)]
    public void RedzonesGrowWithTheBlockAsAddressSanitizers(ulong size, ulong redzone)
    {
        Assert.Equal(redzone, new RedzonePolicy(null).For(size));
        Assert.Equal(48UL, new RedzonePolicy(40).For(size));   // --redzone-size, rounded up to 16
    }

    [Fact]
    public void AnOverflow40BytesPastA100ByteBlockLandsInItsRedzone()
    {
        using var shadow = new ShadowMemory();
        var adaptive = new GuestHeap(null, 1 << 20, shadow);
        ulong user = adaptive.Allocate(100, 16, AllocationKind.Malloc, Stack);
        ulong next = adaptive.Allocate(100, 16, AllocationKind.Malloc, Stack);
        Assert.Equal(ShadowState.Defined, shadow.Get(user + 99));
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(user + 140));
        Assert.Equal(user, adaptive.FindBlock(user + 140)?.User);   // chunks are copies made per lookup
        Assert.True(next >= user + 100 + 64 + 64, "the next block's left redzone is its own");

        var fixedRedzone = new GuestHeap(16, 1 << 20, shadow);
        ulong small = fixedRedzone.Allocate(100, 16, AllocationKind.Malloc, Stack);
        ulong after = fixedRedzone.Allocate(100, 16, AllocationKind.Malloc, Stack);
        Assert.NotEqual(small, fixedRedzone.FindBlock(small + 140)?.User);
        Assert.Equal(after, fixedRedzone.FindBlock(small + 140)?.User);
    }

    [Theory]
    [InlineData(32UL, 32UL)]
    [InlineData(512UL, 512UL)]
    [InlineData(528UL, 576UL)]
    [InlineData(1968UL, 2048UL)]
    [InlineData(2064UL, 2304UL)]
    [InlineData(65536UL, 65536UL)]
    public void SmallBlocksTakeTheSizeOfTheirClass(ulong blockSize, ulong classSize)
    {
        Assert.Equal(classSize, ReusableBlocks.ClassSize(blockSize));
        for (ulong size = 16; size <= ReusableBlocks.Limit; size += 16)
        {
            ulong c = ReusableBlocks.ClassSize(size);
            Assert.True(c >= size && c <= size + size / 8 && c % 16 == 0 && ReusableBlocks.ClassSize(c) == c, $"{size} -> {c}");
        }
    }

    [Fact]
    public void AFreedBlockServesALaterRequestOfANearSize()
    {
        // 1700 and 1750 bytes (128-byte redzones) are blocks of 1968 and 2016 bytes, both of the
        // 2048-byte class: the second request reuses the first's block once it leaves quarantine,
        // its bytes past 1750 unaddressable. With exact sizes it waited for a 1700-byte request.
        using var shadow = new ShadowMemory();
        var heap = new GuestHeap(null, 0, shadow);
        ulong first = heap.Allocate(1700, 16, AllocationKind.Malloc, Stack);
        ulong other = heap.Allocate(8, 16, AllocationKind.Malloc, Stack);
        Assert.True(heap.Free(first, AllocationKind.Malloc, "free", Stack));
        Assert.True(heap.Free(other, AllocationKind.Malloc, "free", Stack));   // pushes the first out of quarantine
        ulong again = heap.Allocate(1750, 16, AllocationKind.Malloc, Stack);
        Assert.Equal(first, again);
        Assert.Equal(2048UL, heap.FindLive(again)!.BlockSize);
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(again + 1750));
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(again + 1750 + 128 + 40));
        Assert.Equal(again, heap.FindBlock(again + 1750 + 128 + 40)?.User);
    }

    [Fact]
    public void ALargerFreedBlockServesARequestBeforeTheArenaGrows()
    {
        // A 1000-byte block is a 1280-byte one; with no 896-byte block held, a 600-byte request
        // (864 bytes with its redzones) takes it whole rather than new memory, up to twice its size.
        using var shadow = new ShadowMemory();
        var heap = new GuestHeap(null, 0, shadow);
        ulong first = heap.Allocate(1000, 16, AllocationKind.Malloc, Stack);
        ulong other = heap.Allocate(8, 16, AllocationKind.Malloc, Stack);
        heap.Free(first, AllocationKind.Malloc, "free", Stack);
        heap.Free(other, AllocationKind.Malloc, "free", Stack);
        ulong top = heap.Top;
        ulong again = heap.Allocate(600, 16, AllocationKind.Malloc, Stack);
        Assert.Equal(first, again);
        Assert.Equal(1280UL, heap.FindLive(again)!.BlockSize);
        Assert.Equal(top, heap.Top);
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(again + 600));
        // Beyond twice the size it is left for its own class: a 100-byte request carves new memory.
        heap.Free(again, AllocationKind.Malloc, "free", Stack);
        heap.Free(heap.Allocate(8, 16, AllocationKind.Malloc, Stack), AllocationKind.Malloc, "free", Stack);
        Assert.NotEqual(first, heap.Allocate(100, 16, AllocationKind.Malloc, Stack));
    }

    [Fact]
    public void GrowingBlocksReuseFreedSpaceBeyondTheQuarantine()
    {
        // malloc a block 32 KB larger than the last, free the old one: without reuse the sizes sum
        // to 64 GB (the whole arena) by the 2000th; with it the arena holds a few of the largest.
        var (heap, errors) = NewHeap(redzone: null, delay: 4 << 20);
        ulong previous = 0, size = 0;
        for (int i = 0; i < 2000; i++)
        {
            size += 32 * 1024;
            ulong block = heap.Allocate(size, 16, AllocationKind.Malloc, Stack);
            Assert.NotEqual(0UL, block);
            if (previous != 0) Assert.True(heap.Free(previous, AllocationKind.Malloc, "free", Stack));
            previous = block;
        }
        Assert.Empty(errors);
        ulong used = heap.Top - heap.ArenaStart;
        Assert.True(used < 4 * size + (8UL << 20), $"arena grew to {used >> 20} MB for blocks of {size >> 20} MB");
    }

    [Fact]
    public void SmallBlocksOfEverChangingSizesDoNotHoardTheArena()
    {
        // Every size once (16 to 64 KB, then again): exact-size lists alone would never reuse them.
        var (heap, _) = NewHeap(redzone: null, delay: 1 << 20);
        ulong previous = 0;
        for (int round = 0; round < 2; round++)
        {
            for (ulong size = 16; size <= 60 * 1024; size += 16)
            {
                ulong block = heap.Allocate(size, 16, AllocationKind.Malloc, Stack);
                if (previous != 0) heap.Free(previous, AllocationKind.Malloc, "free", Stack);
                previous = block;
            }
        }
        ulong used = heap.Top - heap.ArenaStart;
        Assert.True(used < (48UL << 20), $"arena grew to {used >> 20} MB (sizes sum to {2 * 3840UL * 30 * 1024 >> 20} MB)");
    }

    [Fact]
    public void FreedSpaceStaysUnaddressableUntilReusedAndTrimReleasesIt()
    {
        using var shadow = new ShadowMemory();
        var heap = new GuestHeap(null, 0, shadow);
        ulong big = heap.Allocate(1 << 20, 16, AllocationKind.Malloc, Stack);
        ulong keep = heap.Allocate(100, 16, AllocationKind.Malloc, Stack);   // holds the arena's end
        heap.Free(big, AllocationKind.Malloc, "free", Stack);
        heap.Free(keep, AllocationKind.Malloc, "free", Stack);   // pushes big out of the (empty) quarantine
        Assert.Null(heap.FindBlock(big + 4096));
        Assert.True(shadow.IsAll(big, 1 << 20, ShadowState.Unaddressable));
        Assert.True(heap.FreeBytes >= 1UL << 20);
        ulong again = heap.Allocate(512 * 1024, 16, AllocationKind.Malloc, Stack);
        Assert.True(again >= big - 4096 && again < big + (1 << 20), "the freed range is reused");
        Assert.True(shadow.IsAll(again, 512 * 1024, ShadowState.Defined));
        heap.Trim();
        Assert.Equal(512UL * 1024, heap.LiveBytes);
    }
}
