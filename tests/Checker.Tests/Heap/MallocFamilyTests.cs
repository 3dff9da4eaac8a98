using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// The replaced malloc family answers as glibc does where the program can tell (results, errno,
/// posix_memalign's codes), reports arguments no program means as fishy (Valgrind's wording), and
/// its statistics functions describe the replacement heap.
/// </summary>
public class MallocFamilyTests
{
    private const string Source = "heap_fishy.c";

    [Theory]
    [InlineData("heap_fishy")]
    [InlineData("heap_fishy.static")]
    public void FishySizesAndAlignmentsAreReportedAndAnsweredAsGlibcDoes(string binary)
    {
        string program = CaseBinaries.Get(binary);
        RunResult native = ProcessRunner.Run(program, []);
        var report = RunMemcheck(program);
        string context = report.Context;
        Assert.Equal(native.StdoutText, report.Run.StdoutText);   // NULLs, errno values and return codes
        Assert.Contains("malloc(-1): NULL errno=12", native.StdoutText);

        (string Marker, string Message)[] expected =
        [
            ("LINE_MALLOC", "Argument 'size' of function malloc has a fishy (possibly negative) value: -1"),
            ("LINE_CALLOC_NEGATIVE", "Argument 'nmemb' of function calloc has a fishy (possibly negative) value: -1"),
            ("LINE_CALLOC_OVERFLOW", "Arguments 'nmemb' and 'size' of function calloc overflow when multiplied: 9223372036854775807 * 3"),
            ("LINE_REALLOC", "Argument 'size' of function realloc has a fishy (possibly negative) value: -1"),
            ("LINE_REALLOCARRAY", "Arguments 'nmemb' and 'size' of function reallocarray overflow when multiplied: 9223372036854775807 * 3"),
            ("LINE_MEMALIGN", "Argument 'alignment' of function memalign is not a power of two: 3"),
            ("LINE_POSIX_ALIGNMENT", "Argument 'alignment' of function posix_memalign is not a power of two multiple of sizeof(void *): 3"),
            ("LINE_POSIX_SIZE", "Argument 'size' of function posix_memalign has a fishy (possibly negative) value: -1"),
            ("LINE_VALLOC", "Argument 'size' of function valloc has a fishy (possibly negative) value: -3"),
        ];
        Assert.True(report.Errors.Length == expected.Length, $"expected {expected.Length} errors\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            JsonElement error = report.Errors[i];
            Assert.Equal("fishy-argument", error.GetProperty("kind").GetString());
            Assert.Equal(expected[i].Message, error.GetProperty("message").GetString());
            AssertFrame(error.GetProperty("stack")[0], "main", Source, Line(Source, expected[i].Marker), context);
        }
        Assert.Contains("memcheck: Error #1: FISHY ARGUMENT: Argument 'size' of function malloc has a fishy (possibly negative) value: -1", report.Run.StderrText);
        Assert.Matches(@"9 unique, +9 total fishy argument\(s\)", report.Run.StderrText);
    }

    [Fact]
    public void MallinfoAndMallocUsableSizeDescribeTheReplacementHeap()
    {
        var report = RunMemcheck(CaseBinaries.Get("heap_mallinfo"));
        string[] lines = report.Run.StdoutText.Split('\n');
        Assert.True(report.Run.ExitCode == 0, report.Context);
        Assert.Contains("uordblks grew by 1024", lines);          // exactly the 1000 + 24 bytes asked for
        Assert.Contains("arena covers them: 1", lines);
        Assert.Contains("mallinfo agrees: 1", lines);
        Assert.Contains("usable sizes 1000 24 0", lines);        // the requested sizes, as Valgrind answers
        Assert.Contains("back to before: 1", lines);
        Assert.Contains("freed bytes counted: 1", lines);
        Assert.Contains(lines, l => l is "malloc_trim: 0" or "malloc_trim: 1");
        Assert.Empty(report.Errors);
    }
}
