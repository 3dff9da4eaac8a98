using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Registers and flags holding undefined values, overwritten while the thread propagates: what an
/// instruction with defined inputs writes whole (mov $1 to a 32-bit register, xor of a register
/// with itself, add's six flags) is defined and never reported; what it writes in part keeps the
/// rest (a byte register's upper bytes, the carry inc leaves alone) and is reported; a register
/// reloaded from other undefined memory stays undefined. Valgrind reports the byte register and
/// the reload too; it does not report the carry inc kept (its flags thunk), which memcheck does where
/// the byte setc made of it is branched on.
/// </summary>
public class UninitializedOverwrittenTests
{
    private const string Source = "uninit_overwritten.c";

    [Theory]
    [InlineData("uninit_overwritten")]
    [InlineData("uninit_overwritten.O2")]
    public void WholeWritesDefine_PartialWritesKeepTheRest(string binary)
    {
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Function, string Marker, string Words)[] expected =
        [
            ("byte_register_overwritten", "LINE_BYTE", "a conditional jump depends on undefined flags"),
            ("carry_kept_by_inc", "LINE_CARRY", "a conditional jump depends on undefined flags"),
            ("loaded_over_from_undefined", "LINE_RELOADED", "a conditional jump depends on undefined flags"),
        ];
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == expected.Length,
            $"expected {expected.Length} errors, got {errors.Length}: {string.Join(" | ", errors.Select(e => e.GetProperty("message").GetString()))}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (function, marker, words) = expected[i];
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Contains(words, errors[i].GetProperty("message").GetString());
            JsonElement frame = errors[i].GetProperty("stack")[0];
            AssertFrame(frame, function, Source, Line(Source, marker), context);
        }
    }
}
