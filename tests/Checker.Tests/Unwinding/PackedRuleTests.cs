using Checker.Symbols.Unwinding;
using Xunit;

namespace Checker.Tests.Unwinding;

public class PackedRuleTests
{
    [Theory]
    [InlineData(false, 8L, -8L, null)]
    [InlineData(true, 16L, -8L, -16L)]
    [InlineData(false, 0xf_ffffL, -8L, -0x7ff0L)]
    [InlineData(true, -40L, 0x7ff8L, 0L)]
    public void RulesRoundTrip(bool fromRbp, long cfa, long returnAddress, long? savedRbp)
    {
        var rule = new FrameRule(fromRbp, cfa, returnAddress, savedRbp);
        ulong packed = PackedRule.Pack(rule);
        Assert.NotEqual(0UL, packed);
        Assert.True(PackedRule.TryUnpack(packed, out FrameRule back));
        Assert.Equal(rule, back);
    }

    [Fact]
    public void AbsentOrOversizedRulesPackAsNoRule()
    {
        foreach (FrameRule? rule in new FrameRule?[] { null, new(false, 1L << 30, -8, null), new(false, 8, -8, 1L << 20) })
        {
            ulong packed = PackedRule.Pack(rule);
            Assert.NotEqual(0UL, packed);
            Assert.False(PackedRule.TryUnpack(packed, out _));
        }
    }
}
