using System.Runtime.CompilerServices;
namespace Checker.MemcheckTool.Heap;

/// <summary>
/// How wide the redzones around a heap block are. By default they grow with the block, as
/// AddressSanitizer's allocator picks them (ComputeRZLog: 16 bytes up to 48-byte blocks, then 32,
/// 64, 128 ... up to 2048 above 64 KB), so an overflow well past a large block still lands in its
/// redzone; <c>--redzone-size</c> fixes one width for every block.
/// </summary>
public sealed class RedzonePolicy
{
    public const ulong Minimum = 16;

    // (largest size, redzone): AddressSanitizer's table, each size being the power of two less the redzone.
    private static readonly (ulong UpTo, ulong Redzone)[] Adaptive =
    [
        (64 - 16, 16), (128 - 32, 32), (512 - 64, 64), (4096 - 128, 128),
        ((1 << 14) - 256, 256), ((1 << 15) - 512, 512), ((1 << 16) - 1024, 1024),
    ];
    private const ulong Largest = 2048;

    private readonly ulong? _fixed;

    /// <param name="fixedRedzone">One width for every block (rounded up to 16, at least 16); null to adapt to the size.</param>
    public RedzonePolicy(ulong? fixedRedzone) =>
        _fixed = fixedRedzone is ulong r ? Math.Max(Minimum, (Math.Min(r, 1UL << 30) + Minimum - 1) & ~(Minimum - 1)) : null;

    /// <summary>The width given by --redzone-size, or null when it adapts to the block.</summary>
    public ulong? Fixed => _fixed;

    /// <summary>The redzone on each side of a block of <paramref name="size"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong For(ulong size)
    {
        if (_fixed is ulong r) return r;
        foreach ((ulong upTo, ulong redzone) in Adaptive)
            if (size <= upTo) return redzone;
        return Largest;
    }
}
