using System.Runtime.CompilerServices;
using Checker.MemcheckTool.Instrumentation;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>
/// Every access site keeps a checked access (cc1plus: 346K), so its small fields share one word: each
/// must read back what was set, whatever was set beside it, and a value too large for its field is refused.
/// </summary>
public class CheckedAccessTests
{
    [Fact]
    public void IsSixteenBytes() => Assert.Equal(16, Unsafe.SizeOf<CheckedAccess>());

    [Fact]
    public void FieldsReadBackAcrossWithExpressions()
    {
        var access = new CheckedAccess(Register.R15, Register.R14, 8, -0x7fff_fff0, MemoryAccessClassifier.MaxCheckedSize, IsWrite: true,
            AccessExtent.CountedAfter, Register.K7, ElementSize: 64, IsRead: false) { Packed = true };
        Assert.Equal((Register.R15, Register.R14, 8, -0x7fff_fff0L, MemoryAccessClassifier.MaxCheckedSize),
            (access.Base, access.Index, access.Scale, access.Displacement, access.Size));
        Assert.Equal((true, false, true, AccessExtent.CountedAfter, Register.K7, 64),
            (access.IsWrite, access.IsRead, access.Packed, access.Extent, access.OpMask, access.ElementSize));

        CheckedAccess union = access with { Displacement = 8, Size = 29, IsWrite = false, IsRead = true };
        Assert.Equal((Register.R15, Register.R14, 8, 8L, 29), (union.Base, union.Index, union.Scale, union.Displacement, union.Size));
        Assert.Equal((false, true, true, AccessExtent.CountedAfter, Register.K7, 64),
            (union.IsWrite, union.IsRead, union.Packed, union.Extent, union.OpMask, union.ElementSize));
        Assert.NotEqual(access, union);
        Assert.Equal(union, access with { Displacement = 8, Size = 29, IsWrite = false, IsRead = true });
    }

    [Fact]
    public void ASizeBeyondItsFieldIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckedAccess(Register.RAX, Register.None, 1, 0, 1 << 16, IsWrite: false));
}
