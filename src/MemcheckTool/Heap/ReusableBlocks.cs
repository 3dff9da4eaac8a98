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

    // Per size class, block starts (a stack: the most recently recycled block is the warmest) and how many.
    private readonly ulong[]?[] _bySize = new ulong[]?[Limit / Granule + 1];
    private readonly int[] _counts = new int[Limit / Granule + 1];

    /// <summary>Blocks held.</summary>
    public int Count { get; private set; }

    public bool TryTake(ulong blockSize, out ulong blockStart)
    {
        ulong sizeClass = blockSize / Granule;
        int held = _counts[sizeClass];
        if (held > 0)
        {
            _counts[sizeClass] = --held;
            blockStart = _bySize[sizeClass]![held];
            Count--;
            return true;
        }
        blockStart = 0;
        return false;
    }

    public void Put(ulong blockSize, ulong blockStart)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockSize, Limit);
        ulong sizeClass = blockSize / Granule;
        ulong[] list = _bySize[sizeClass] ??= new ulong[16];
        int held = _counts[sizeClass];
        if (held == list.Length) Array.Resize(ref _bySize[sizeClass], held * 2);
        _bySize[sizeClass]![held] = blockStart;
        _counts[sizeClass] = held + 1;
        Count++;
    }

    /// <summary>Empties every list: (block start, block size) of each block held.</summary>
    public List<(ulong Start, ulong Size)> TakeAll()
    {
        var all = new List<(ulong, ulong)>(Count);
        for (int i = 0; i < _bySize.Length; i++)
        {
            // Most recent first, as the stacks gave them before.
            for (int j = _counts[i] - 1; j >= 0; j--) all.Add((_bySize[i]![j], (ulong)i * Granule));
            _counts[i] = 0;
        }
        Count = 0;
        return all;
    }
}
