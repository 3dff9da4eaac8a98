using Checker.Shadow;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The shadow of a heap block's bytes as malloc and free change it, with plain stores for small
/// blocks: <see cref="ShadowMemory.Set"/> is general (range checks, a vectorized fill, a
/// compare-and-swap for a shared end byte) and was a tenth of a malloc/free pair. A block's user
/// address is 16-aligned, so its bytes start a shadow byte; the lanes of its last shadow byte past
/// the size are the block's own padding (its body is a multiple of 16, then a redzone), which is
/// unaddressable whether the block is live or freed: that byte is written whole, never read (a
/// read of a recycled block's cold shadow was a cache miss on every malloc). Larger blocks' whole
/// shadow bytes go through <see cref="ShadowMemory.Set"/> (pages released or shared for large
/// ranges). <see cref="ShadowMemory.Set"/> over the whole size would keep the padding lanes as it
/// finds them: the two differ only where something made padding addressable (a client request
/// on freed memory).
/// </summary>
internal sealed unsafe class BlockShadow(ShadowMemory shadow)
{
    /// <summary>Blocks up to this size are painted here (at most 64 shadow bytes).</summary>
    private const ulong DirectLimit = 256;

    private readonly byte* _base = (byte*)shadow.Base;

    /// <summary>Sets the state of [user, user + size), user being a block's 16-aligned address.</summary>
    public void Set(ulong user, ulong size, ShadowState state)
    {
        if ((user & 15) != 0)
        {
            shadow.Set(user, size, state);
            return;
        }
        byte pattern = ShadowBits.Pattern(state);
        ulong whole = size >> 2;
        if (size > DirectLimit) shadow.Set(user, whole << 2, state);   // its large-range handling (pages released or shared)
        else
        {
            ulong word = pattern * 0x0101_0101_0101_0101UL;
            byte* q = _base + (user >> 2);
            for (ulong left = whole; left >= 8; left -= 8, q += 8) *(ulong*)q = word;
            for (ulong left = whole & 7; left > 0; left--, q++) *q = pattern;
        }
        int tail = (int)(size & 3);
        if (tail != 0) _base[(user >> 2) + whole] = ShadowBits.Fill(ShadowBits.Pattern(ShadowState.Unaddressable), 0, tail, state);
    }
}
