using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Leak records at exit, as Valgrind makes them: cycles of lost blocks are one definite leak led by
/// one block with the rest as its indirect bytes, and the blocks of one allocation site fold into
/// one record that says how many blocks and bytes it holds (text and JSON).
/// </summary>
public class LeakReportTests
{
    private const string Source = "leak_cycles.c";

    [Fact]
    public void LostRingAndDoublyLinkedListAreReportedWithTheirIndirectBytes()
    {
        var report = RunMemcheck(CaseBinaries.Get("leak_cycles"), "--leak-check=full");
        string context = report.Context;
        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.True(report.Errors.Length == 3, $"expected 3 leak records\n{context}");
        Assert.All(report.Errors, e => Assert.Equal("leak", e.GetProperty("kind").GetString()));

        JsonElement ring = Record(report, "ring_node");
        AssertFrame(ring.GetProperty("stack")[0], "ring_node", Source, Line(Source, "LINE_RING"), context);
        AssertLeak(ring, bytes: 96, blocks: 1, indirectBytes: 48, indirectBlocks: 1, context);
        Assert.Contains("LEAK: 48 direct bytes in 1 block, 48 indirect bytes in 1 block", report.Run.StderrText);

        JsonElement list = Record(report, "list_node");
        AssertFrame(list.GetProperty("stack")[0], "list_node", Source, Line(Source, "LINE_LIST"), context);
        AssertLeak(list, bytes: 160, blocks: 1, indirectBytes: 128, indirectBlocks: 4, context);
        Assert.Contains("LEAK: 32 direct bytes in 1 block, 128 indirect bytes in 4 blocks", report.Run.StderrText);
    }

    [Fact]
    public void BlocksOfOneSiteFoldIntoOneRecordCountedPerBlock()
    {
        var report = RunMemcheck(CaseBinaries.Get("leak_cycles"), "--leak-check=full");
        string context = report.Context;

        JsonElement many = Record(report, "lose_many");
        AssertFrame(many.GetProperty("stack")[0], "lose_many", Source, Line(Source, "LINE_MANY"), context);
        AssertLeak(many, bytes: 3200, blocks: 100, indirectBytes: 0, indirectBlocks: 0, context);
        Assert.Equal(100, many.GetProperty("count").GetInt32());
        Assert.Contains("memcheck: Error #3: LEAK: 3200 direct bytes in 100 blocks\n", report.Run.StderrText);

        JsonElement leaks = report.Root.GetProperty("summary").GetProperty("kinds").GetProperty("leak");
        Assert.Equal((3, 102, 3456), (leaks.GetProperty("unique").GetInt32(), leaks.GetProperty("total").GetInt32(), leaks.GetProperty("bytes").GetInt32()));
        Assert.Matches(@"\n.*3 unique, +102 total, +3456 byte\(s\) of leak\(s\)", report.Run.StderrText);
    }

    [Fact]
    public void ByDefaultTheSameCountsAreSummarizedAsIgnored()
    {
        var report = RunMemcheck(CaseBinaries.Get("leak_cycles"));
        Assert.Empty(report.Errors);
        JsonElement leaks = report.Root.GetProperty("summary").GetProperty("ignored").GetProperty("leak");
        Assert.Equal((3, 102, 3456), (leaks.GetProperty("unique").GetInt32(), leaks.GetProperty("total").GetInt32(), leaks.GetProperty("bytes").GetInt32()));
    }

    [Fact]
    public void UnreadableHeapPagesAndRootsAreSkippedAndTheLeakCheckStillDone()
    {
        const string source = "leak_prot_none.c";
        var report = RunMemcheck(CaseBinaries.Get("leak_prot_none"), "--leak-check=full");
        string context = report.Context;
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal("done\n", report.Run.StdoutText);
        // The block held only from the protected heap page, the one on the protected root page, the lost one.
        string[] markers = ["LINE_BEHIND_SHIELD", "LINE_ON_PROTECTED_ROOT", "LINE_LOST"];
        Assert.True(report.Errors.Length == markers.Length, $"expected {markers.Length} leaks\n{context}");
        for (int i = 0; i < markers.Length; i++)
        {
            Assert.Equal("leak", report.Errors[i].GetProperty("kind").GetString());
            AssertFrame(report.Errors[i].GetProperty("stack")[0], "main", source, Line(source, markers[i]), context);
        }
    }

    [Theory]
    [InlineData("leak_exit_path", "return")]
    [InlineData("leak_exit_path", "rbx")]
    [InlineData("leak_exit_path.O2", "return")]
    [InlineData("leak_exit_path.O2", "rbx")]
    public void StalePointersUnderTheExitPathDoNotHideLeaksButCalleeSavedRegistersHoldBlocks(string binary, string mode)
    {
        // Valgrind: 2,560 bytes in 64 blocks definitely lost, and in rbx mode 24 bytes still reachable.
        const string source = "leak_exit_path.c";
        var report = RunMemcheckCommand([CaseBinaries.Get(binary), mode], "--leak-check=full");
        string context = report.Context;
        Assert.Equal("63\n", report.Run.StdoutText);
        JsonElement leak = Assert.Single(report.Errors);
        Assert.Equal("leak", leak.GetProperty("kind").GetString());
        AssertFrame(leak.GetProperty("stack")[0], "lose", source, Line(source, "LINE_LOST"), context);
        AssertLeak(leak, bytes: 2560, blocks: 64, indirectBytes: 0, indirectBlocks: 0, context);
    }

    private static JsonElement Record(MemcheckReport report, string allocatingFunction) =>
        report.Errors.Single(e => FunctionOf(e.GetProperty("stack")[0]) == allocatingFunction);

    private static void AssertLeak(JsonElement record, int bytes, int blocks, int indirectBytes, int indirectBlocks, string context)
    {
        JsonElement leak = record.GetProperty("leak");
        var actual = (leak.GetProperty("bytes").GetInt32(), leak.GetProperty("blocks").GetInt32(),
            leak.GetProperty("indirect_bytes").GetInt32(), leak.GetProperty("indirect_blocks").GetInt32());
        Assert.True(actual == (bytes, blocks, indirectBytes, indirectBlocks),
            $"leak {actual}, expected {(bytes, blocks, indirectBytes, indirectBlocks)}\n{context}");
    }
}
