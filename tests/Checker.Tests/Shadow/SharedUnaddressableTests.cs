using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>
/// With shared Unaddressable pages enabled, a large range is marked by mapping copy-on-write pages
/// of one memory file: it reads Unaddressable, costs no private memory, and everything else the
/// shadow does over it (partial updates, Defined again, large and small) stays exact.
/// </summary>
[Collection("Shadow memory")]
public class SharedUnaddressableTests
{
    private const ulong MiB = 1UL << 20;
    private const ulong Start = 0x4100_0000_0000 + 8;   // not page-aligned in the shadow either

    [Fact]
    public void LargeUnaddressableRangeIsSharedAndCostsNoPrivatePages()
    {
        using var shadow = new ShadowMemory();
        Assert.Equal(2, shadow.ShareLargeRangePages(lowestDescriptor: 900).Count);
        ulong shadowStart = shadow.ShadowAddressOf(Start), shadowEnd = shadow.ShadowAddressOf(Start + 64 * MiB);

        shadow.Set(Start, 64 * MiB, ShadowState.Unaddressable);

        Assert.True(shadow.IsAll(Start, 64 * MiB, ShadowState.Unaddressable));
        Assert.Equal(ShadowState.Defined, shadow.Get(Start - 1));
        Assert.Equal(ShadowState.Defined, shadow.Get(Start + 64 * MiB));
        // Only the partial pages at both ends were written.
        Assert.True(ShadowPageMap.PrivateBytes(shadowStart, shadowEnd) <= 2 * 4096);
    }

    [Fact]
    public void UpdatesOverSharedPagesStayExact()
    {
        using var shadow = new ShadowMemory();
        shadow.ShareLargeRangePages(lowestDescriptor: 900);
        shadow.Set(Start, 32 * MiB, ShadowState.Unaddressable);

        shadow.Set(Start + 100, 13, ShadowState.Defined);              // small: a copied page
        shadow.Set(Start + 4 * MiB, 8 * MiB, ShadowState.Defined);      // large: fresh anonymous pages
        shadow.Set(Start + 5 * MiB, 1 * MiB, ShadowState.Unaddressable); // shared again inside it
        shadow.Set(Start + 20 * MiB, 3, ShadowState.Undefined);

        Assert.Equal((Start + 100, ShadowState.Defined), shadow.FirstNot(Start, 32 * MiB, ShadowState.Unaddressable));
        Assert.True(shadow.IsAll(Start + 100, 13, ShadowState.Defined));
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(Start + 113));
        Assert.True(shadow.IsAll(Start + 4 * MiB, 1 * MiB, ShadowState.Defined));
        Assert.True(shadow.IsAll(Start + 5 * MiB, 1 * MiB, ShadowState.Unaddressable));
        Assert.True(shadow.IsAll(Start + 6 * MiB, 6 * MiB, ShadowState.Defined));
        Assert.True(shadow.IsAll(Start + 12 * MiB, 8 * MiB, ShadowState.Unaddressable));
        Assert.True(shadow.IsAll(Start + 20 * MiB, 3, ShadowState.Undefined));
        Assert.True(shadow.IsAll(Start + 20 * MiB + 3, 12 * MiB - 3, ShadowState.Unaddressable));

        // Defined over all of it: nothing of the file's 0xFF may come back.
        shadow.Set(Start, 32 * MiB, ShadowState.Defined);
        Assert.True(shadow.IsAll(Start - 64, 32 * MiB + 128, ShadowState.Defined));
        if (ShadowPageMap.ReadsMapTheZeroPage) Assert.Equal(0UL, ShadowPageMap.PrivateBytes(shadow.ShadowAddressOf(Start) + 4096, shadow.ShadowAddressOf(Start + 32 * MiB) - 4096));
    }

    [Fact]
    public void WithoutSharingLargeRangesAreWrittenAsBefore()
    {
        using var shadow = new ShadowMemory();
        shadow.Set(Start, 8 * MiB, ShadowState.Unaddressable);
        Assert.True(shadow.IsAll(Start, 8 * MiB, ShadowState.Unaddressable));
        Assert.True(ShadowPageMap.PrivateBytes(shadow.ShadowAddressOf(Start), shadow.ShadowAddressOf(Start + 8 * MiB)) >= 2 * MiB - 4096);
    }
}
