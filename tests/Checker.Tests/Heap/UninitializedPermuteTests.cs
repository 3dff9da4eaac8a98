using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Lane-exact shadows through permutes and other lane moves (issue 10): a vector whose lanes 4, 6
/// and 7 (AVX2) or 4, 9 and 14 (AVX-512) were never set goes through vpermd/vpermq/vpermilps/
/// vperm2i128/vpermt2d/vpermi2d/vpermw, block inserts and extracts, packs, broadcasts, pmovzx/sx,
/// pinsrd/insertps and valignd, masked and not. Branches on result lanes that came from defined lanes
/// report nothing (a pessimistic rule would report each); a branch on a lane an undefined lane went
/// to reports, at the lines valgrind names for the AVX2 program (valgrind cannot run AVX-512).
/// </summary>
public class UninitializedPermuteTests
{
    private static string Message(JsonElement error) => error.GetProperty("message").GetString()!;

    private static string Describe(JsonElement[] errors) => string.Join(" | ", errors.Select(e => $"{e.GetProperty("kind").GetString()}: {Message(e)}"));

    private static JsonElement UserFrame(JsonElement error, string source) =>
        error.GetProperty("stack").EnumerateArray().First(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith(source, StringComparison.Ordinal));

    private static void AssertReports(MemcheckReport report, string source, (string Marker, string Function)[] expected)
    {
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Equal("a conditional jump depends on undefined flags", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), expected[i].Function, source, Line(source, expected[i].Marker), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
    }

    [Fact]
    public void Avx2LaneMoves_OnlyTheUndefinedLanesReport()
    {
        var report = RunMemcheck(CaseBinaries.Get("uninit_permutes"));
        Assert.Equal("vpermd ok\nvpermq ok\nvpermilps ok\nvpermilps var ok\nvperm2i128 ok\nvinserti128 ok\nvextracti128 ok\nvpackssdw ok\n"
            + "packuswb ok\nvpbroadcastd ok\nvpmovsxdq ok\nvpmovzxwd ok\npinsrd ok\ninsertps ok\ndone\n", report.Run.StdoutText);
        AssertReports(report, "uninit_permutes.c",
        [
            ("LINE_VPERMD", "permutes"), ("LINE_VPERMQ", "permutes"), ("LINE_VPERMILPS", "permutes"), ("LINE_VPERM2I128", "permutes"),
            ("LINE_VINSERTI128", "permutes"), ("LINE_PACK", "narrowing_and_widening"), ("LINE_BROADCAST", "narrowing_and_widening"),
            ("LINE_WIDEN", "narrowing_and_widening"), ("LINE_PINSRD", "element_inserts"),
        ]);
    }

    [Avx512Fact]
    public void Avx512LaneMoves_OnlyTheUndefinedLanesReport()
    {
        var report = RunMemcheck(CaseBinaries.Get("uninit_permutes512"));
        Assert.Equal("vpermd ok\nvpermq ok\nvpermq imm ok\nmasked ok\nzero-masked ok\nvpermw ok\nvpermt2d ok\nvpermi2d ok\nvinserti32x4 ok\n"
            + "lane 15 ok\nvinserti64x4 ok\nvbroadcasti32x4 ok\nvpbroadcastd ok\nvpermilps ok\ndone\n", report.Run.StdoutText);
        AssertReports(report, "uninit_permutes512.c",
        [
            ("LINE_VPERMD", "one_table"), ("LINE_VPERMQ", "one_table"), ("LINE_MASKED", "one_table"), ("LINE_VPERMT2D", "two_tables"),
            ("LINE_EXTRACT", "blocks"), ("LINE_VPERMILPS", "blocks"),
        ]);
    }

    /// <summary>movsldup/movshdup/movddup and vpmovdb/vpmovsdb move lane shadows: only lanes from undefined ones report (the float compare is two jumps).</summary>
    [Avx512Fact]
    public void DuplicatesAndDownConversions_OnlyTheUndefinedLanesReport()
    {
        var report = RunMemcheck(CaseBinaries.Get("uninit_dup_narrow"));
        Assert.Equal("movsldup ok\nmovshdup ok\nmovddup ok\nvpmovdb ok\nvpmovsdb ok\ndone\n", report.Run.StdoutText);
        AssertReports(report, "uninit_dup_narrow.c",
        [
            ("LINE_MOVSHDUP", "duplicates"), ("LINE_MOVSHDUP", "duplicates"), ("LINE_VPMOVDB", "narrow"), ("LINE_VPMOVSDB", "narrow"),
        ]);
    }

    /// <summary>
    /// vpcompressd/vpexpandd move lane shadows; a compress store touches the first popcount(mask)
    /// elements (two into a 2-int block are clean, three overflow it: reported at that line).
    /// </summary>
    [Avx512Fact]
    public void CompressAndExpand_MoveLaneShadows_AndACompressStoreTouchesOnlyItsPrefix()
    {
        const string source = "uninit_compress.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_compress"));
        Assert.Equal("vpcompressd ok\ncompress store ok\nvpexpandd ok\ntwo elements ok\ndone\n", report.Run.StdoutText);
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 3, $"expected 3 errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        (string Kind, string Marker)[] expected = [("uninitialized", "LINE_COMPRESS_STORE"), ("uninitialized", "LINE_EXPAND"), ("unaddressable", "LINE_OVERFLOW")];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Kind, errors[i].GetProperty("kind").GetString());
            AssertFrame(UserFrame(errors[i], source), "compress", source, Line(source, expected[i].Marker), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
    }
}
