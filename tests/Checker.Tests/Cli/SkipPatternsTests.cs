using Checker.Memcheck;
using Xunit;

namespace Checker.Tests.Cli;

/// <summary>--trace-children-skip patterns, as Valgrind matches them against the exec'd path.</summary>
public class SkipPatternsTests
{
    [Theory]
    [InlineData("/usr/bin/python3", "/usr/bin/python3", true)]
    [InlineData("*/python3*", "/usr/bin/python3.11", true)]
    [InlineData("*python3", "/usr/bin/python3.11", false)]
    [InlineData("/usr/*", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", true)]   // '*' crosses '/'
    [InlineData("cc1", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", false)]   // the whole path, not its last part
    [InlineData("*/cc?", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", true)]
    [InlineData("*/cc?", "/usr/lib/gcc/x86_64-linux-gnu/12/cc", false)]
    [InlineData(@"a\*b", "a*b", true)]
    [InlineData(@"a\*b", "axb", false)]
    [InlineData("**", "", true)]
    [InlineData("?", "", false)]
    public void Matches(string pattern, string path, bool expected) => Assert.Equal(expected, SkipPatterns.Matches(pattern, path));

    [Fact]
    public void AnyOfTheList() =>
        Assert.True(SkipPatterns.AnyMatches(["/bin/*", "*/make"], "/usr/bin/make") && !SkipPatterns.AnyMatches([], "/usr/bin/make"));
}
