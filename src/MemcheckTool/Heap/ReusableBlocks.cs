using System.Runtime.CompilerServices;
namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Small blocks back from quarantine, by exact block size (a multiple of 16), ready for reuse: an
/// array of plain stacks indexed by size class (malloc's hot path must not hash or search).
/// </summary>
public sealed class ReusableBlocks
{
    private const ulong Granule = 16;
    /// <summary>The largest block size kept here.</summary>
    public const ulong Limit = 64 * 1024;

    // Per size class, a stack of block starts (the most recently recycled block is the warmest)
    // whose element 0 is how many it holds: the count and the top share a cache line.
    private readonly ulong[]?[] _bySize = new ulong[]?[Limit / Granule + 1];

    /// <summary>Blocks held.</summary>
    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTake(ulong blockSize, out ulong blockStart)
    {
        ulong[]? list = _bySize[blockSize / Granule];
        if (list != null && list[0] is ulong held and > 0)
        {
            blockStart = list[held];
            list[0] = held - 1;
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
        if (list == null) _bySize[sizeClass] = list = new ulong[16];
        ulong held = list[0] + 1;
        if (held == (ulong)list.Length)
        {
            Array.Resize(ref list, list.Length * 2);
            _bySize[sizeClass] = list;
        }
        list[held] = blockStart;
        list[0] = held;
        Count++;
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
        Count = 0;
        return all;
    }
}
