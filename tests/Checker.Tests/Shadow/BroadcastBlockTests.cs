using System.Text.RegularExpressions;
using Checker.MemcheckTool.Definedness;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>The NxM suffix of a broadcast's mnemonic (vbroadcasti32x4: 32 bits times 4), read without a regex (memcheck links none).</summary>
public class BroadcastBlockTests
{
    [Fact]
    public void SuffixBlocksAreTheRegexsForEveryMnemonic()
    {
        var suffix = new Regex(@"(\d+)x(\d+)$");
        var mismatched = new List<string>();
        foreach (Mnemonic mnemonic in Enum.GetValues<Mnemonic>())
        {
            string name = mnemonic.ToString();
            Match m = suffix.Match(name);
            int expected = m.Success ? int.Parse(m.Groups[1].Value) * int.Parse(m.Groups[2].Value) / 8 : 0;
            if (Propagator.BlockOfSuffix(name) != expected) mismatched.Add(name);
        }
        Assert.Empty(mismatched);
        Assert.Equal(16, Propagator.BlockOfSuffix(nameof(Mnemonic.Vbroadcasti32x4)));
        Assert.Equal(32, Propagator.BlockOfSuffix(nameof(Mnemonic.Vbroadcastf64x4)));
        Assert.Equal(0, Propagator.BlockOfSuffix(nameof(Mnemonic.Vpbroadcastq)));
    }
}
