using Checker.Shadow;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The shadow of a heap block's bytes as malloc and free change it, with plain stores for small
/// blocks: <see cref="ShadowMemory.Set"/> is general (range checks, a vectorized fill, a
/// compare-and-swap for a shared end byte) and was a tenth of a malloc/free pair. A block's user
/// address is 16-aligned, so its bytes start a shadow byte; the lanes of its last shadow byte past
/// the size are the block's own padding (its body is a multiple of 16, then a redzone), which is
/// unaddressable whether the block is live or freed: that byte is written whole, never read (a
/// read of a recycled block's cold shadow was a cache miss on every malloc). Larger blocks go
/// through <see cref="ShadowMemory.Set"/>, which keeps the padding lanes as it finds them: the two
/// differ only where something made padding addressable (a client request on freed memory).
/// </summary>
internal sealed unsafe class BlockShadow(ShadowMemory shadow)
{
    /// <summary>Blocks up to this size are painted here (at most 64 shadow bytes).</summary>
    private const ulong DirectLimit = 256;

    private readonly byte* _base = (byte*)shadow.Base;

    /// <summary>Sets the state of [user, user + size), user being a block's 16-aligned address.</summary>
    public void Set(ulong user, ulong size, ShadowState state)
    {
        if (size > DirectLimit || (user & 15) != 0)
        {
            shadow.Set(user, size, state);
            return;
        }
        byte* p = _base + (user >> 2);
        byte pattern = ShadowBits.Pattern(state);
        ulong word = pattern * 0x0101_0101_0101_0101UL;
        ulong whole = size >> 2;
        for (; whole >= 8; whole -= 8, p += 8) *(ulong*)p = word;
        for (; whole > 0; whole--, p++) *p = pattern;
        int tail = (int)(size & 3);
        if (tail != 0) *p = ShadowBits.Fill(ShadowBits.Pattern(ShadowState.Unaddressable), 0, tail, state);
    }
}
