using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Errors that happen again and again at the same sites (GCC's sparse sets read undefined memory
/// on purpose): each site is one error whose count is every occurrence, told apart by its stack,
/// as Valgrind counts them (its total for uninit_repeats is the same 500,007). Repeats are counted
/// without symbolizing their stacks again; the counts and the errors are what they always were.
/// </summary>
public class UninitializedRepeatTests
{
    private const string Source = "uninit_repeats.c";

    [Theory]
    [InlineData("uninit_repeats")]
    [InlineData("uninit_repeats.O2")]
    public void EverySiteIsOneError_CountingEveryOccurrence(string binary)
    {
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Kind, string Function, string Marker, string Caller, string? CallerMarker, int Count)[] expected =
        [
            ("uninitialized", "branch_on_heap_value", "LINE_BRANCH", "main", null, 100_000),
            ("uninitialized", "contains", "LINE_SPARSE", "sparse_set_lookups", null, 100_000),
            ("uninitialized", "table_index", "LINE_INDEX", "main", null, 100_000),
            ("uninitialized", "use", "LINE_TWO_CALLERS", "first_caller", "LINE_FIRST_CALLER", 50_000),
            ("uninitialized", "use", "LINE_TWO_CALLERS", "second_caller", "LINE_SECOND_CALLER", 50_000),
            // Depths 2..8: recursion at one call site counts once in the identifying frames.
            ("uninitialized", "recurse", "LINE_RECURSION", "recurse", null, 7),
            ("unaddressable", "beyond_the_block", "LINE_BEYOND", "main", null, 100_000),
        ];
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == expected.Length,
            $"expected {expected.Length} errors, got {errors.Length}: {string.Join(" | ", errors.Select(e => e.GetProperty("message").GetString()))}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (kind, function, marker, caller, callerMarker, count) = expected[i];
            JsonElement error = errors[i];
            Assert.Equal(kind, error.GetProperty("kind").GetString());
            Assert.True(count == error.GetProperty("count").GetInt32(), $"error {i + 1}: expected count {count}, got {error.GetProperty("count").GetInt32()}\n{context}");
            JsonElement[] stack = error.GetProperty("stack").EnumerateArray().ToArray();
            AssertFrame(stack[0], function, Source, Line(Source, marker), context);
            Assert.True(caller == FunctionOf(stack[1]), $"error {i + 1}: expected caller {caller}, got {Describe(error.GetProperty("stack"))}\n{context}");
            if (callerMarker != null) AssertFrame(stack[1], caller, Source, Line(Source, callerMarker), context);
        }
        JsonElement kinds = report.Root.GetProperty("summary").GetProperty("kinds");
        Assert.Equal((6, 400_007), (kinds.GetProperty("uninitialized").GetProperty("unique").GetInt32(), kinds.GetProperty("uninitialized").GetProperty("total").GetInt32()));
        Assert.Equal((1, 100_000), (kinds.GetProperty("unaddressable").GetProperty("unique").GetInt32(), kinds.GetProperty("unaddressable").GetProperty("total").GetInt32()));
        Assert.Contains("      6 unique, 400007 total uninitialized access(es)", report.Run.StderrText);
        Assert.Contains("      1 unique, 100000 total unaddressable access(es)", report.Run.StderrText);
    }

    /// <summary>A suppressed repeat is counted for its suppression every time, and never as an error.</summary>
    [Fact]
    public void SuppressedRepeats_CountForTheirSuppression()
    {
        string supp = Path.Combine(Scratch.NewDirectory("repeats-supp"), "repeats.supp");
        File.WriteAllText(supp, "{\n   sparse set\n   Memcheck:Cond\n   fun:contains*\n}\n");
        var report = RunMemcheck(CaseBinaries.Get("uninit_repeats.O2"), "--suppressions", supp);
        string context = report.Context;
        JsonElement kinds = report.Root.GetProperty("summary").GetProperty("kinds");
        Assert.True(kinds.GetProperty("uninitialized").GetProperty("total").GetInt32() == 300_007, context);
        JsonElement suppressed = Assert.Single(report.Root.GetProperty("suppressed").EnumerateArray());
        Assert.Equal("sparse set", suppressed.GetProperty("name").GetString());
        Assert.Equal(100_000, suppressed.GetProperty("count").GetInt32());
    }
}
