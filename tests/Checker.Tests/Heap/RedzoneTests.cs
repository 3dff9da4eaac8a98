using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Heap redzones grow with the block (AddressSanitizer's sizes) unless --redzone-size fixes them:
/// an overflow 40 bytes past a 100-byte block is found in that block's own redzone by default.
/// </summary>
public class RedzoneTests
{
    private const string Source = "heap_redzone_adaptive.c";

    [Fact]
    public void ByDefaultAnOverflow40BytesPastA100ByteBlockIsInItsRedzone()
    {
        var report = RunMemcheck(CaseBinaries.Get("heap_redzone_adaptive"));
        JsonElement error = Assert.Single(report.Errors);
        AssertOverflow(error, "LINE_40_PAST", "40 byte(s) beyond a 100-byte block", report.Context);
        Assert.Equal("done\n", report.Run.StdoutText);
    }

    [Fact]
    public void RedzoneSize16PutsThatWriteInTheNextBlocksRedzone()
    {
        var report = RunMemcheck(CaseBinaries.Get("heap_redzone_adaptive"), "--redzone-size", "16");
        Assert.True(report.Errors.Length == 2, $"expected 2 errors\n{report.Context}");
        AssertOverflow(report.Errors[0], "LINE_40_PAST", "4 byte(s) before a 100-byte block", report.Context);
        // 200 past runs beyond q too, into heap never handed out: unaddressable as well.
        string message = report.Errors[1].GetProperty("message").GetString()!;
        Assert.StartsWith("of unallocated heap memory: writing 1 byte(s)", message);
        AssertFrame(report.Errors[1].GetProperty("stack")[0], "main", Source, Line(Source, "LINE_200_PAST"), report.Context);
    }

    [Fact]
    public void RedzoneSize256AlsoFindsTheWrite200BytesPast()
    {
        var report = RunMemcheck(CaseBinaries.Get("heap_redzone_adaptive"), "--redzone-size", "256");
        Assert.True(report.Errors.Length == 2, $"expected 2 errors\n{report.Context}");
        AssertOverflow(report.Errors[0], "LINE_40_PAST", "40 byte(s) beyond a 100-byte block", report.Context);
        AssertOverflow(report.Errors[1], "LINE_200_PAST", "200 byte(s) beyond a 100-byte block", report.Context);
    }

    private static void AssertOverflow(JsonElement error, string marker, string where, string context)
    {
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        string message = error.GetProperty("message").GetString()!;
        Assert.True(message.StartsWith("beyond heap bounds: writing 1 byte(s)") && message.EndsWith(where), $"message: {message}\n{context}");
        AssertFrame(error.GetProperty("stack")[0], "main", Source, Line(Source, marker), context);
    }
}
