namespace Checker.Engine.Heap;

/// <summary>
/// Blocks back from quarantine, by exact block size (a multiple of 16), ready for reuse: an array
/// indexed by size class for the common small sizes (malloc's hot path must not hash), a
/// dictionary above.
/// </summary>
public sealed class ReusableBlocks
{
    private const ulong Granule = 16;
    private const ulong SmallLimit = 64 * 1024;

    private readonly Stack<ulong>?[] _small = new Stack<ulong>?[SmallLimit / Granule + 1];
    private readonly Dictionary<ulong, Stack<ulong>> _large = new();

    public bool TryTake(ulong blockSize, out ulong blockStart)
    {
        Stack<ulong>? free = blockSize <= SmallLimit ? _small[blockSize / Granule] : _large.GetValueOrDefault(blockSize);
        if (free is { Count: > 0 }) { blockStart = free.Pop(); return true; }
        blockStart = 0;
        return false;
    }

    public void Put(ulong blockSize, ulong blockStart)
    {
        Stack<ulong> free;
        if (blockSize <= SmallLimit) free = _small[blockSize / Granule] ??= new Stack<ulong>();
        else if (!_large.TryGetValue(blockSize, out free!)) _large[blockSize] = free = new Stack<ulong>();
        free.Push(blockStart);
    }
}
