using Checker.MemcheckTool.Definedness;
using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>Defining a range (a syscall's output, madvise's given-back pages): addressable bytes become defined, unaddressable ones stay.</summary>
[Collection("Shadow memory")]
public class MemoryDefinednessDefineTests
{
    private const ulong Start = 0x5123_4600_0000;

    [Fact]
    public void UnaddressableRunsStayUnaddressable_AndWhatFollowsThemIsDefined()
    {
        // An ended thread's stack as glibc gives it back: undefined frames at its top, everything
        // below its last rsp unaddressable (8 MB, stepped over as one run), undefined bytes past it.
        const ulong Hole = 8UL << 20;
        using var shadow = new ShadowMemory();
        var memory = new MemoryDefinedness(shadow, _ => true);
        shadow.Set(Start, 4096, ShadowState.Undefined);
        shadow.Set(Start + 4096, Hole, ShadowState.Unaddressable);
        shadow.Set(Start + 4096 + Hole, 4096, ShadowState.Undefined);
        memory.Write(Start + 4096 + Hole + 100, [0x0f]);   // a partly defined byte
        shadow.Set(Start + 8192 + Hole, 1, ShadowState.Unaddressable);
        shadow.Set(Start + 8193 + Hole, 101, ShadowState.Undefined);   // the last one past the defined range

        memory.Define(Start, 8192 + Hole + 101);

        Assert.Null(shadow.FirstNot(Start, 4096, ShadowState.Defined));
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(Start + 4096));
        Assert.Null(shadow.FirstNot(Start + 4096, Hole, ShadowState.Unaddressable));
        Assert.Null(shadow.FirstNot(Start + 4096 + Hole, 4096, ShadowState.Defined));
        Assert.Equal(ShadowState.Unaddressable, shadow.Get(Start + 8192 + Hole));
        Assert.Null(shadow.FirstNot(Start + 8193 + Hole, 100, ShadowState.Defined));
        Assert.Equal(ShadowState.Undefined, shadow.Get(Start + 8193 + Hole + 100));   // past the range
    }
}
