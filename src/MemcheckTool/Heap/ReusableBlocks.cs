namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Small blocks back from quarantine, by exact block size (a multiple of 16), ready for reuse: an
/// array indexed by size class (malloc's hot path must not hash or search).
/// </summary>
public sealed class ReusableBlocks
{
    private const ulong Granule = 16;
    /// <summary>The largest block size kept here.</summary>
    public const ulong Limit = 64 * 1024;

    private readonly Stack<ulong>?[] _bySize = new Stack<ulong>?[Limit / Granule + 1];

    /// <summary>Blocks held.</summary>
    public int Count { get; private set; }

    public bool TryTake(ulong blockSize, out ulong blockStart)
    {
        Stack<ulong>? free = _bySize[blockSize / Granule];
        if (free is { Count: > 0 })
        {
            blockStart = free.Pop();
            Count--;
            return true;
        }
        blockStart = 0;
        return false;
    }

    public void Put(ulong blockSize, ulong blockStart)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockSize, Limit);
        (_bySize[blockSize / Granule] ??= new Stack<ulong>()).Push(blockStart);
        Count++;
    }

    /// <summary>Empties every list: (block start, block size) of each block held.</summary>
    public List<(ulong Start, ulong Size)> TakeAll()
    {
        var all = new List<(ulong, ulong)>(Count);
        for (int i = 0; i < _bySize.Length; i++)
        {
            if (_bySize[i] is not { Count: > 0 } free) continue;
            foreach (ulong start in free) all.Add((start, (ulong)i * Granule));
            free.Clear();
        }
        Count = 0;
        return all;
    }
}
