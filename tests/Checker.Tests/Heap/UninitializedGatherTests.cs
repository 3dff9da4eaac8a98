using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Definedness through gathers and scatters (issue 10): each active lane takes the shadow of the
/// element it loads (mode 0 leaves for the propagating mode once, after the lane walk), masked-off
/// lanes keep theirs, an undefined index element is a use of an undefined address, a scatter moves
/// its lanes' shadows into memory. The AVX2 program's reports are valgrind's, error for error; a
/// gather with one unaddressable and one undefined lane reports the read once (its re-run in the
/// propagating mode does not walk the lanes again) and the undefined lane at its use.
/// </summary>
public class UninitializedGatherTests
{
    private const string Branch = "a conditional jump depends on undefined flags";

    private static string Message(JsonElement error) => error.GetProperty("message").GetString()!;

    private static string Describe(JsonElement[] errors) => string.Join(" | ", errors.Select(e => $"{e.GetProperty("kind").GetString()}: {Message(e)}"));

    private static JsonElement UserFrame(JsonElement error, string source) =>
        error.GetProperty("stack").EnumerateArray().First(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith(source, StringComparison.Ordinal));

    private static void AssertReports(MemcheckReport report, string source, (string Kind, string Message, string Marker, string Function)[] expected)
    {
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Kind, errors[i].GetProperty("kind").GetString());
            Assert.True(Message(errors[i]).Contains(expected[i].Message, StringComparison.Ordinal), $"error {i}: {Message(errors[i])}\n{report.Context}");
            Assert.Equal(1, errors[i].GetProperty("count").GetInt32());
            AssertFrame(UserFrame(errors[i], source), expected[i].Function, source, Line(source, expected[i].Marker), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal(0, report.Root.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public void Avx2Gathers_ReportAtValgrindsLines()
    {
        const string source = "uninit_gathers.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_gathers"));
        Assert.Equal("bad gather ok\ndefined gather ok\nother lanes ok\nmasked gather ok\nundefined index ok\nloop 3\ndone\n", report.Run.StdoutText);
        AssertReports(report, source,
        [
            ("unaddressable", "reading 4 byte(s)", "LINE_BAD_GATHER", "bad_and_undefined"),
            ("uninitialized", Branch, "LINE_BAD_USE", "bad_and_undefined"),
            ("uninitialized", Branch, "LINE_GATHER_UNDEF", "gathers"),
            ("uninitialized", "a 4-byte address index (ymm1 element 4) is undefined", "LINE_INDEX_UNDEF", "undefined_index"),
            ("uninitialized", Branch, "LINE_LOOP", "loop"),
        ]);
        Assert.Equal(1, report.Root.GetProperty("summary").GetProperty("kinds").GetProperty("unaddressable").GetProperty("total").GetInt32());
    }

    [Avx512Fact]
    public void Avx512GathersAndScatters_OnlyTheUndefinedLanesReport()
    {
        const string source = "uninit_gathers512.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_gathers512"));
        Assert.Equal("defined gather ok\nother lanes ok\nmasked gather ok\ndefined loop 620\nscattered 12\ndone\n", report.Run.StdoutText);
        AssertReports(report, source,
        [
            ("uninitialized", Branch, "LINE_GATHER_UNDEF", "gathers"),
            ("uninitialized", Branch, "LINE_MASKED_ON", "masked"),
            ("uninitialized", Branch, "LINE_LOOP", "main"),
            ("uninitialized", Branch, "LINE_SCATTER_USE", "main"),
        ]);
    }
}
