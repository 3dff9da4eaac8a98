using Checker.Reports;
using Xunit;
using static Checker.Tests.Reports.ReportSamples;

namespace Checker.Tests.Reports;

/// <summary>Valgrind's --show-below-main=no: where a stack is cut.</summary>
public class BelowMainTests
{
    private static ReportFrame Libc(ulong pc, string function) => new(pc, "/lib/libc.so.6", pc, function, SymbolOffset: 0x20);

    private static string Names(IReadOnlyList<ReportFrame> frames) => string.Join(" <- ", frames.Select(f => f.Function ?? "??"));

    [Fact]
    public void AStackEndsAtMain()
    {
        ReportFrame[] stack =
        [
            Frame(0x10, "f", 3), Frame(0x20, "main", 9),
            Libc(0x30, "__libc_start_call_main"), Libc(0x40, "__libc_start_main_impl"), new ReportFrame(0x50, Exe, 0x50, "_start", SymbolOffset: 0x20),
        ];
        Assert.Equal("f <- main", Names(BelowMain.Cut(stack)));
    }

    [Fact]
    public void FramesInlinedIntoMainStay()
    {
        ReportFrame[] stack = [Frame(0x10, "helper", 3) with { Inlined = true }, Frame(0x10, "main", 9), Libc(0x30, "__libc_start_call_main")];
        Assert.Equal("helper <- main", Names(BelowMain.Cut(stack)));
    }

    [Fact]
    public void WithoutMainTheFirstStartFunctionIsShownAsBelowMain()
    {
        // A constructor or an atexit handler runs from __libc_start_main, not from main.
        ReportFrame[] stack = [Frame(0x10, "init_table", 3), Libc(0x30, "__libc_start_main"), new ReportFrame(0x50, Exe, 0x50, "_start")];
        IReadOnlyList<ReportFrame> cut = BelowMain.Cut(stack);
        Assert.Equal("init_table <- (below main)", Names(cut));
        Assert.Equal((0x30UL, "/lib/libc.so.6", (ulong?)null), (cut[1].Pc, cut[1].ModulePath, cut[1].SymbolOffset));
    }

    [Fact]
    public void AStackWithNeitherIsLeftWhole()
    {
        ReportFrame[] stack = [Frame(0x10, "worker", 3), new ReportFrame(0x20), Libc(0x30, "clone3")];
        Assert.Same(stack, BelowMain.Cut(stack));
    }
}
