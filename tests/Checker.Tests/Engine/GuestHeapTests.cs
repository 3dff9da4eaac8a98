using Checker.Engine.Heap;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>The replacement allocator on its own: layout, quarantine, reuse and argument checks.</summary>
public class GuestHeapTests
{
    private static readonly ulong[] Stack = [0x1234];

    private static (GuestHeap Heap, List<HeapError> Errors) NewHeap(ulong redzone = 16, ulong delay = 1 << 20)
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
            Assert.True(chunk.BlockStart + heap.Redzone <= user && user + size + heap.Redzone <= chunk.BlockStart + chunk.BlockSize);
            unsafe { new Span<byte>((void*)user, (int)size).Fill(0xAB); }
        }
        var ordered = blocks.Select(b => heap.FindLive(b.User)!).OrderBy(c => c.BlockStart).ToList();
        for (int i = 1; i < ordered.Count; i++)
            Assert.True(ordered[i - 1].BlockStart + ordered[i - 1].BlockSize <= ordered[i].BlockStart, "blocks overlap");
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
        unsafe { new Span<byte>((void*)(users[7] - heap.Redzone), (int)heap.Redzone).Fill(0x03); }
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
}
