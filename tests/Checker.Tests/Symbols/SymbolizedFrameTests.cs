using Checker.Symbols.Symbolization;
using Xunit;

namespace Checker.Tests.Symbols;

public class SymbolizedFrameTests
{
    [Fact]
    public void ToString_WithSource()
    {
        var frame = new SymbolizedFrame(0x5555_5555_5149, "/tmp/x", 0x1149, "main", "/abs/path/x.c", 7, false, 0x10);
        Assert.Equal("main [/abs/path/x.c:7] (x+0x1149)", frame.ToString());
    }

    [Fact]
    public void ToString_WithSourceButNoLine()
    {
        var frame = new SymbolizedFrame(0x1149, "/tmp/x", 0x1149, "main", "/abs/path/x.c", null, true);
        Assert.Equal("main [/abs/path/x.c] (x+0x1149)", frame.ToString());
    }

    [Fact]
    public void ToString_SymbolPlusOffset()
    {
        var frame = new SymbolizedFrame(0x7f00_0009_8942, "/lib/x86_64-linux-gnu/libc.so.6", 0x98942, "malloc", null, null, false, 0x12);
        Assert.Equal("malloc+0x12 (libc.so.6+0x98942)", frame.ToString());
        Assert.Equal("libc.so.6", frame.ModuleName);
    }

    [Fact]
    public void ToString_Unknown()
    {
        var frame = new SymbolizedFrame(0x401000, "/bin/prog", 0x1000, null, null, null, false);
        Assert.Equal("?? (prog+0x1000)", frame.ToString());
    }

    [Fact]
    public void ToString_ReplacedRoutineShowsNothingOfTheTool()
    {
        var frame = new SymbolizedFrame(0x1005_1794, "/opt/memcheck/libchecker-replace.so", 0x1794, "strlen", null, null, false, Replaced: true);
        Assert.Equal("strlen (replaced by memcheck)", frame.ToString());
    }
}
