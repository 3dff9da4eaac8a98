using System.Runtime.InteropServices;
using Checker.MemcheckTool.Heap;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// The leak scan on its own, over a real <see cref="GuestHeap"/> and roots in native memory: the
/// classification follows Valgrind's (mc_leakcheck.c) and the scan reads only readable memory.
/// </summary>
public unsafe class LeakScannerTests : IDisposable
{
    private static readonly ulong[] Stack = [0x1234];
    private readonly GuestHeap _heap = new(16, 1 << 20);
    private readonly ulong* _roots = (ulong*)NativeMemory.AllocZeroed(64 * 8);

    public void Dispose() => NativeMemory.Free(_roots);

    private ulong Block(ulong size) => _heap.Allocate(size, 16, AllocationKind.Malloc, Stack);

    private static void Point(ulong from, int word, ulong to) => ((ulong*)from)[word] = to;

    private LeakScanResult Scan(MappedRegions? regions = null) =>
        LeakScanner.Classify(_heap.LiveChunks, [], [((ulong)_roots, (ulong)(_roots + 64))], regions ?? MappedRegions.OfCurrentProcess());

    private static LeakState StateOf(LeakScanResult result, ulong user) =>
        result.States[result.Blocks.ToList().FindIndex(c => c.User == user)];

    [Fact]
    public void LostRingIsOneDefiniteLeakLedByItsLowestBlock()
    {
        ulong a = Block(48), b = Block(48);
        Point(a, 0, b);
        Point(b, 0, a);

        LeakScanResult result = Scan();

        LeakedBlock leak = Assert.Single(result.Leaks);
        Assert.Equal(Math.Min(a, b), leak.Chunk.User);
        Assert.False(leak.Possible);
        Assert.Equal((48UL, 1), (leak.IndirectBytes, leak.IndirectBlocks));
        Assert.Equal(LeakState.IndirectLeak, StateOf(result, Math.Max(a, b)));
    }

    [Fact]
    public void LostDoublyLinkedListIsOneLeakWithTheRestIndirect()
    {
        ulong[] nodes = Enumerable.Range(0, 5).Select(_ => Block(32)).ToArray();
        for (int i = 0; i < nodes.Length; i++)
        {
            Point(nodes[i], 0, i > 0 ? nodes[i - 1] : 0);
            Point(nodes[i], 1, i + 1 < nodes.Length ? nodes[i + 1] : 0);
        }

        LeakedBlock leak = Assert.Single(Scan().Leaks);
        Assert.Equal(nodes.Min(), leak.Chunk.User);
        Assert.Equal((128UL, 4), (leak.IndirectBytes, leak.IndirectBlocks));
    }

    [Fact]
    public void ALaterLeaderTakesOverAnEarlierCliqueItPointsTo()
    {
        // Address order decides leaders: a (low) -> nothing, c (high) -> a. c's clique absorbs a.
        ulong a = Block(16), b = Block(24), c = Block(40);
        Point(a, 0, b);
        Point(c, 0, a);

        LeakedBlock leak = Assert.Single(Scan().Leaks);
        Assert.Equal(c, leak.Chunk.User);
        Assert.Equal((40UL, 2), (leak.IndirectBytes, leak.IndirectBlocks));
    }

    [Fact]
    public void BlocksReachedFromAPossiblyLostBlockArePossiblyLostToo()
    {
        // root -> (interior) a -> (start) b: Valgrind's is_prior_definite is false below a.
        ulong a = Block(64), b = Block(16), kept = Block(16);
        Point(a, 2, b);
        _roots[0] = a + 24;
        _roots[1] = kept;

        LeakScanResult result = Scan();

        Assert.Equal(LeakState.Possible, StateOf(result, a));
        Assert.Equal(LeakState.Possible, StateOf(result, b));
        Assert.Equal(LeakState.Reachable, StateOf(result, kept));
        Assert.Equal([a, b], result.Leaks.Where(l => l.Possible).Select(l => l.Chunk.User).Order());
        Assert.DoesNotContain(result.Leaks, l => !l.Possible);
    }

    [Fact]
    public void StartPointerLaterUpgradesAPossibleBlockAndWhatItHolds()
    {
        ulong a = Block(64), b = Block(16);
        Point(a, 0, b);
        _roots[0] = a + 8 + 3;   // interior, no heuristic matches an odd offset
        _roots[5] = a;

        LeakScanResult result = Scan();

        Assert.Equal(LeakState.Reachable, StateOf(result, a));
        Assert.Equal(LeakState.Reachable, StateOf(result, b));
        Assert.Empty(result.Leaks);
    }

    [Fact]
    public void HeuristicsAcceptNewArrayLength64AndStdStringInteriorPointers()
    {
        ulong array = Block(8 + 3 * 24);       // new T[3] with a destructor: count, then the elements
        Point(array, 0, 3);
        ulong counted = Block(8 + 100);        // sqlite: the size of what follows, then the data
        Point(counted, 0, 100);
        ulong text = Block(3 * 8 + 15 + 1);    // COW std::string: length, capacity, refcount, chars, NUL
        Point(text, 0, 11);
        Point(text, 1, 15);
        ulong plain = Block(64);               // nothing known about it: a possible leak
        _roots[0] = array + 8;
        _roots[1] = counted + 8;
        _roots[2] = text + 24;
        _roots[3] = plain + 8;

        LeakScanResult result = Scan();

        int Index(ulong user) => result.Blocks.ToList().FindIndex(c => c.User == user);
        Assert.Equal(LeakHeuristic.NewArray, result.Heuristics[Index(array)]);
        Assert.Equal(LeakHeuristic.Length64, result.Heuristics[Index(counted)]);
        Assert.Equal(LeakHeuristic.StdString, result.Heuristics[Index(text)]);
        Assert.Equal([LeakState.Reachable, LeakState.Reachable, LeakState.Reachable, LeakState.Possible],
            new[] { array, counted, text, plain }.Select(u => StateOf(result, u)));
    }

    [Fact]
    public void MultipleInheritanceNeedsVtablesAtTheBlockStartAndAtThePointer()
    {
        // Two fake vtables in a "file mapping", their entries in "executable file" memory.
        ulong* code = (ulong*)NativeMemory.AllocZeroed(4096);
        ulong* vtables = (ulong*)NativeMemory.AllocZeroed(4096);
        try
        {
            for (int i = 0; i < 8; i++) vtables[i] = (ulong)code + 16 * (ulong)i;
            ulong obj = Block(48), other = Block(48);
            Point(obj, 0, (ulong)vtables);        // the primary base's vtable pointer
            Point(obj, 2, (ulong)(vtables + 4));  // the second base's, where the pointer goes
            Point(other, 2, (ulong)(vtables + 4));   // no vtable at the start: stays possible
            _roots[0] = obj + 16;
            _roots[1] = other + 16;
            var regions = new MappedRegions([
                ((ulong)code, (ulong)code + 4096, MappedRegions.Access.Read | MappedRegions.Access.Execute | MappedRegions.Access.File),
                ((ulong)vtables, (ulong)vtables + 4096, MappedRegions.Access.Read | MappedRegions.Access.File),
                (_heap.ArenaStart, _heap.ArenaEnd, MappedRegions.Access.Read | MappedRegions.Access.Write),
                ((ulong)_roots, (ulong)(_roots + 64), MappedRegions.Access.Read | MappedRegions.Access.Write)]);

            LeakScanResult result = Scan(regions);

            Assert.Equal(LeakState.Reachable, StateOf(result, obj));
            Assert.Equal(LeakHeuristic.MultipleInheritance, result.Heuristics[result.Blocks.ToList().FindIndex(c => c.User == obj)]);
            Assert.Equal(LeakState.Possible, StateOf(result, other));
        }
        finally
        {
            NativeMemory.Free(code);
            NativeMemory.Free(vtables);
        }
    }

    [Fact]
    public void UnreadableBlocksAndRootsAreSkippedNotFatal()
    {
        // A block on a page the program made PROT_NONE is not scanned (what it holds looks lost);
        // a root range that runs into unmapped memory is read up to where it is mapped.
        ulong shielded = _heap.Allocate(4096, 4096, AllocationKind.Malloc, Stack);
        ulong behind = Block(32);
        Point(shielded, 0, behind);
        _roots[0] = shielded;
        ulong mapping = (ulong)Mmap(3 * 4096);
        ((ulong*)mapping)[0] = Block(16);
        Assert.Equal(0, Munmap((nint)(mapping + 4096), 4096));
        Assert.Equal(0, Mprotect((nint)shielded, 4096, 0));
        try
        {
            LeakScanResult result = LeakScanner.Classify(_heap.LiveChunks, [],
                [((ulong)_roots, (ulong)(_roots + 64)), (mapping, mapping + 3 * 4096)], MappedRegions.OfCurrentProcess());

            Assert.Equal(LeakState.Reachable, StateOf(result, shielded));
            Assert.Equal(LeakState.Unreached, StateOf(result, behind));
            Assert.Equal(LeakState.Reachable, StateOf(result, ((ulong*)mapping)[0]));
        }
        finally
        {
            Mprotect((nint)shielded, 4096, 3);
            Munmap((nint)mapping, 4096);
            Munmap((nint)(mapping + 2 * 4096), 4096);
        }
    }

    [Fact]
    public void NeverWrittenPagesOfRootsAndLargeBlocksAreNotRead()
    {
        // An idle thread's stack or a big buffer malloc'd and barely used: reading the untouched
        // pages would fault each in (and on a kernel without a zero page, allocate it). Pointers on
        // the written pages are still found, and shared mappings are read whole.
        const int Pages = 64;
        ulong mapping = (ulong)Mmap(Pages * 4096UL);
        ulong shared = (ulong)Mmap(0, 2 * 4096, 3, 0x21, -1, 0);   // MAP_SHARED | MAP_ANONYMOUS
        ulong big = Block(Pages * 4096UL);
        try
        {
            ulong fromRoot = Block(16), fromBig = Block(16), fromShared = Block(16);
            ((ulong*)(mapping + 40 * 4096))[3] = fromRoot;
            ((ulong*)(big + 50 * 4096))[5] = fromBig;
            ((ulong*)shared)[0] = fromShared;
            _roots[0] = big;
            var untouched = Enumerable.Range(0, Pages).Where(p => p != 40).Select(p => mapping + (ulong)p * 4096).ToList();
            Assert.All(untouched, page => Assert.False(IsPresent(page)));

            LeakScanResult result = LeakScanner.Classify(_heap.LiveChunks, [],
                [((ulong)_roots, (ulong)(_roots + 64)), (mapping, mapping + Pages * 4096UL), (shared, shared + 2 * 4096)],
                MappedRegions.OfCurrentProcess());

            Assert.Equal(LeakState.Reachable, StateOf(result, fromRoot));
            Assert.Equal(LeakState.Reachable, StateOf(result, fromBig));
            Assert.Equal(LeakState.Reachable, StateOf(result, fromShared));
            Assert.All(untouched, page => Assert.False(IsPresent(page)));
            Assert.True(IsPresent(shared + 4096));   // read although never written: it is shared
        }
        finally
        {
            Munmap((nint)mapping, Pages * 4096);
            Munmap((nint)shared, 2 * 4096);
        }
    }

    // /proc/self/pagemap's present bit: set once a page is mapped in (a read maps the zero page or,
    // on a kernel without one, a fresh page).
    private static bool IsPresent(ulong page)
    {
        using var pagemap = File.OpenHandle("/proc/self/pagemap");
        byte[] entry = new byte[8];
        Assert.Equal(8, RandomAccess.Read(pagemap, entry, (long)(page / 4096 * 8)));
        return (BitConverter.ToUInt64(entry) & (1UL << 63)) != 0;
    }

    private static nint Mmap(ulong length) => Mmap(0, (nuint)length, 3, 0x22, -1, 0);

    [DllImport("libc", EntryPoint = "mmap")]
    private static extern nint Mmap(nint address, nuint length, int prot, int flags, int fd, long offset);

    [DllImport("libc", EntryPoint = "munmap")]
    private static extern int Munmap(nint address, nuint length);

    [DllImport("libc", EntryPoint = "mprotect")]
    private static extern int Mprotect(nint address, nuint length, int prot);
}
