using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Small blocks back from quarantine, by exact block size (a multiple of 16), ready for reuse: an
/// array of plain stacks indexed by size class (malloc's hot path must not hash or search).
/// </summary>
/// <remarks>
/// The lists are pinned, and the heap's <see cref="HeapFastPath.State"/> holds a native table of
/// their addresses and lengths and the count, so the native fast path takes and puts blocks too
/// (a list that grows is published again).
/// </remarks>
public sealed unsafe class ReusableBlocks
{
    private const ulong Granule = 16;
    /// <summary>The largest block size kept here.</summary>
    public const ulong Limit = 64 * 1024;
    private const int Classes = (int)(Limit / Granule) + 1;
    /// <summary>Block sizes up to this are their own class; above, eight classes per doubling.</summary>
    public const ulong ExactUpTo = 512;

    /// <summary>
    /// The size a new small block takes: <paramref name="blockSize"/> (redzones and body) rounded up
    /// to its class, 16-byte steps up to <see cref="ExactUpTo"/> and eighths of the power of two below
    /// it above (at most 12.5% more; the slack is unaddressable, more right redzone). Exact sizes made
    /// freed blocks of a size nobody asked for again wait for ever: alloc's random 8-4008 byte nodes
    /// hoarded 5.8 MB while the arena grew. heap_fastpath.c's <c>class_size</c> is the same function.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ClassSize(ulong blockSize)
    {
        if (blockSize <= ExactUpTo) return blockSize;
        ulong step = (1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(blockSize))) / 8;
        return (blockSize + step - 1) & ~(step - 1);
    }

    // Per size class, a stack of block starts (the most recently recycled block is the warmest)
    // whose element 0 is how many it holds: the count and the top share a cache line.
    private readonly ulong[]?[] _bySize = new ulong[]?[Classes];
    private readonly HeapFastPath.State* _state;

    public ReusableBlocks(HeapFastPath.State* state)
    {
        _state = state;
        state->Lists = (ulong**)NativeMemory.AllocZeroed((nuint)(Classes * sizeof(ulong*)));
        state->ListCapacity = (long*)NativeMemory.AllocZeroed((nuint)(Classes * sizeof(long)));
        state->Held = (ulong*)NativeMemory.AllocZeroed((nuint)(HeldWords * sizeof(ulong)));
    }

    // A bit per size class that holds blocks, so a request finds the smallest held class above its
    // own in a few words (the native fast path reads and keeps it too).
    private const int HeldWords = (Classes + 63) / 64;

    private void MarkHeld(ulong sizeClass, bool held)
    {
        ref ulong word = ref _state->Held[sizeClass / 64];
        word = held ? word | 1UL << (int)(sizeClass % 64) : word & ~(1UL << (int)(sizeClass % 64));
    }

    /// <summary>
    /// The smallest size class above <paramref name="blockSize"/>'s, up to twice its size, that holds
    /// a block; 0 when none. A block of it serves the request whole (the rest is more redzone), and
    /// goes back to its own class when freed: resident blocks are used again before the arena grows
    /// (alloc: 48.8 -> 47.4 MB).
    /// </summary>
    public ulong HeldAbove(ulong blockSize)
    {
        ulong first = blockSize / Granule + 1, last = Math.Min(2 * blockSize, Limit) / Granule;
        for (ulong c = first; c <= last; c = (c | 63) + 1)
        {
            ulong bits = _state->Held[c / 64] >> (int)(c % 64);
            if (bits == 0) continue;
            ulong found = c + (ulong)System.Numerics.BitOperations.TrailingZeroCount(bits);
            return found <= last ? found * Granule : 0;
        }
        return 0;
    }

    /// <summary>Blocks held.</summary>
    public int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (int)_state->ReusableCount;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] private set => _state->ReusableCount = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTake(ulong blockSize, out ulong blockStart)
    {
        ulong[]? list = _bySize[blockSize / Granule];
        if (list != null && list[0] is ulong held and > 0)
        {
            blockStart = list[held];
            list[0] = held - 1;
            if (held == 1) MarkHeld(blockSize / Granule, false);
            Count--;
            return true;
        }
        blockStart = 0;
        return false;
    }

    public void Put(ulong blockSize, ulong blockStart)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockSize, Limit);
        // No ref to the array's element: on an array of arrays that is a type check per call.
        ulong sizeClass = blockSize / Granule;
        ulong[]? list = _bySize[sizeClass];
        if (list == null) list = Publish(sizeClass, GC.AllocateArray<ulong>(16, pinned: true));
        ulong held = list[0] + 1;
        if (held == (ulong)list.Length)
        {
            ulong[] grown = GC.AllocateArray<ulong>(list.Length * 2, pinned: true);
            list.CopyTo(grown, 0);
            list = Publish(sizeClass, grown);
        }
        list[held] = blockStart;
        list[0] = held;
        if (held == 1) MarkHeld(sizeClass, true);
        Count++;
    }

    private ulong[] Publish(ulong sizeClass, ulong[] list)
    {
        _bySize[sizeClass] = list;
        _state->Lists[sizeClass] = (ulong*)Unsafe.AsPointer(ref list[0]);
        _state->ListCapacity[sizeClass] = list.Length;
        return list;
    }

    /// <summary>Empties every list: (block start, block size) of each block held.</summary>
    public List<(ulong Start, ulong Size)> TakeAll()
    {
        var all = new List<(ulong, ulong)>(Count);
        for (int i = 0; i < _bySize.Length; i++)
        {
            if (_bySize[i] is not { } list) continue;
            // Most recent first.
            for (ulong j = list[0]; j > 0; j--) all.Add((list[j], (ulong)i * Granule));
            list[0] = 0;
        }
        new Span<ulong>(_state->Held, HeldWords).Clear();
        Count = 0;
        return all;
    }
}
