using Checker.Memcheck;
using Xunit;

namespace Checker.Tests.Cli;

public class TerminalTextTests
{
    [Theory]
    [InlineData("plain /usr/bin/ls: fine", "plain /usr/bin/ls: fine")]
    [InlineData("a\nb\tc\rd", @"a\nb\tc\rd")]
    [InlineData("x\u001b[31mred\u0007", @"x\x1b[31mred\x07")]
    [InlineData("back\\slash", @"back\\slash")]
    [InlineData("del\u007f c1\u009b", @"del\x7f c1\x9b")]
    [InlineData("bidi\u202eevil\u2066", @"bidi\u202eevil\u2066")]
    [InlineData("caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c")]
    public void Escape_ShowsControlsAndKeepsText(string text, string shown)
    {
        Assert.Equal(shown, TerminalText.Escape(text));
    }
}
