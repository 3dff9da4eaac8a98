using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// x87 definedness (issue 10): long doubles, and doubles under -mfpmath=387, live on the x87 stack.
/// An undefined one is reported where it decides a branch (fcomi/fucomi flags; fnstsw's condition
/// codes tested or moved to the flags by sahf), stays undefined through arithmetic and through fstp
/// to memory, and may sit deep in the stack under defined values; correct long double code, libm and
/// printf's %Lf beside undefined padding report nothing. The lines are valgrind's for these programs.
/// </summary>
public class UninitializedX87Tests
{
    private static string Message(JsonElement error) => error.GetProperty("message").GetString()!;

    private static string Describe(JsonElement[] errors) => string.Join(" | ", errors.Select(e => $"{e.GetProperty("kind").GetString()}: {Message(e)}"));

    private static JsonElement UserFrame(JsonElement error, string source) =>
        error.GetProperty("stack").EnumerateArray().First(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith(source, StringComparison.Ordinal));

    [Theory]
    [InlineData("uninit_x87")]
    [InlineData("uninit_x87.O2")]
    [InlineData("uninit_x87.387")]
    public void UndefinedX87Values_ReportedWhereTheyDecide(string binary)
    {
        const string source = "uninit_x87.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        JsonElement[] errors = report.Errors;
        Assert.Equal("two on the stack\nsum is 1.5\ntwo on the stack\ns is greater\ntaken 0\n1.25 -9.75\ndone\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Marker, string Function)[] expected =
        [
            ("LINE_COMPARE", "compared"),
            ("LINE_STORED", "stored"),
            ("LINE_FNSTSW", "status_word"),
            ("LINE_SAHF", "status_word"),
            ("LINE_DEEP", "deep"),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Equal("a conditional jump depends on undefined flags", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), expected[i].Function, source, Line(source, expected[i].Marker), report.Context);
        }
    }

    [Theory]
    [InlineData("clean_long_double")]
    [InlineData("clean_long_double.O2")]
    [InlineData("clean_long_double.387")]
    public void CorrectLongDoubleCode_NothingReported(string binary)
    {
        var report = RunMemcheck(CaseBinaries.Get(binary));
        Assert.True(report.Errors.Length == 0, $"errors: {Describe(report.Errors)}\n{report.Context}");
        Assert.Equal("first j -5.809 last c 8.419\nsum 10.771832 least -5.8095e+00 rounded 1079 mean 0xa.c596c30ed75fa18p-4\n"
            + "e 2.718281828459045 log 0.5147615564 sqrt2 1.414213562373095049 frexp 0.602783 11\n"
            + "parsed 3.141592653589793238 narrowed 6.283185307179586 classes 0 fmod 1.416\ndone\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>--track-origins=yes: each report names the heap block the long double was loaded from, through x87
    /// stores and loads, stack copies and pushes of it passed on as an argument.</summary>
    [Fact]
    public void TrackOrigins_NamesTheBlockAnX87ValueCameFrom()
    {
        var report = RunMemcheck(CaseBinaries.Get("uninit_x87.O2"), "--track-origins=yes");
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 5, $"expected 5 errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        Assert.All(errors, e => Assert.Contains("it came from the 32-byte heap block at 0x", Message(e)));
    }
}
