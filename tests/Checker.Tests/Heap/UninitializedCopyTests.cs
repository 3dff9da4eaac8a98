using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Partly undefined memory copied through a register (a qword loop through rdx, a record's halves
/// through xmm2/xmm3, a load stored across two shadow qwords), which the plain mode propagates where
/// it is rather than switching modes: the copy keeps each byte's definedness (the undefined field
/// and the unwritten half of an int are reported where they are used, the defined ones are not), a
/// defined value stored over unwritten bytes defines them, a register zeroed after the copy is
/// defined, and a loaded undefined value passed to a call, compared there into a byte (sete), is
/// reported where the caller branches on that byte, as Valgrind does.
/// </summary>
public class UninitializedCopyTests
{
    private const string Source = "uninit_copies.c";

    [Fact]
    public void CopiesKeepEachBytesDefinedness()
    {
        var report = RunMemcheck(CaseBinaries.Get("uninit_copies"));
        string context = report.Context;
        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Function, string Marker, string Words)[] expected =
        [
            ("copy_qwords", "LINE_COPIED", "a conditional jump depends on undefined flags"),
            ("copy_qwords", "LINE_COPIED_HIGH", "a conditional jump depends on undefined flags"),
            ("copy_then_overwrite", "LINE_OVERWRITE_DST", "a conditional jump depends on undefined flags"),
            ("copy_across", "LINE_ACROSS", "a conditional jump depends on undefined flags"),
            ("copy_vectors", "LINE_VECTOR", "a conditional jump depends on undefined flags"),
            ("load_and_pass", "LINE_USED", "a conditional jump depends on undefined flags"),
        ];
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == expected.Length,
            $"expected {expected.Length} errors, got {errors.Length}: {string.Join(" | ", errors.Select(e => e.GetProperty("message").GetString()))}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (function, marker, words) = expected[i];
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Contains(words, errors[i].GetProperty("message").GetString());
            Assert.Equal(1, errors[i].GetProperty("count").GetInt32());
            JsonElement frame = errors[i].GetProperty("stack")[0];
            AssertFrame(frame, function, Source, Line(Source, marker), context);
        }
    }
}
