using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// --tool memcheck replaces the malloc family: invalid heap arguments are reported, checked here
/// through the --json report, with the innermost frame at the offending line of the case's own
/// source and the block's history; --error-exitcode gates on them.
/// </summary>
public class HeapArgumentTests
{
    [Theory]
    [InlineData("heap_invalid_frees")]
    [InlineData("heap_invalid_frees.static")]
    public void DoubleStackInteriorAndStaleFrees_AreReportedAtTheirLines(string binary)
    {
        const string source = "heap_invalid_frees.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = $"{report.Run.CommandLine}\nstderr:\n{report.Run.StderrText}";
        var errors = report.Errors;

        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.True(errors.Length == 4, $"expected 4 errors\n{context}");
        Assert.All(errors, e => Assert.Equal("invalid-heap-arg", e.GetProperty("kind").GetString()));
        string Message(int i) => errors[i].GetProperty("message").GetString()!;
        JsonElement Stack(int i, int frame) => errors[i].GetProperty("stack")[frame];

        Assert.Contains("double free", Message(0));
        AssertFrame(Stack(0, 0), "release", source, Line(source, "LINE_RELEASE"), context);
        AssertFrame(Stack(0, 1), "main", source, Line(source, "LINE_DOUBLE"), context);
        JsonElement block = errors[0].GetProperty("block");
        Assert.Equal("freed", block.GetProperty("state").GetString());
        Assert.Equal(10, block.GetProperty("size").GetInt32());
        AssertFrame(block.GetProperty("alloc_stack")[0], "main", source, Line(source, "LINE_ALLOC"), context);
        AssertFrame(block.GetProperty("free_stack")[0], "release", source, Line(source, "LINE_RELEASE"), context);

        Assert.Contains("not a heap address", Message(1));
        AssertFrame(Stack(1, 0), "main", source, Line(source, "LINE_STACK"), context);

        Assert.Contains("points inside a block", Message(2));
        AssertFrame(Stack(2, 0), "main", source, Line(source, "LINE_INTERIOR"), context);

        Assert.Contains("double free", Message(3));   // realloc always moves: r was freed by it
        AssertFrame(Stack(3, 0), "main", source, Line(source, "LINE_STALE"), context);

        Assert.Equal(4, report.Root.GetProperty("summary").GetProperty("total").GetInt32());
        Assert.Contains("Error #4: INVALID HEAP ARGUMENT", report.Run.StderrText);
    }

    [Fact]
    public void StacksGoPastFramesWithoutFramePointers()
    {
        // -O2 -fomit-frame-pointer: the frame-pointer chain ends at main; the CFI rules go on into libc.
        var report = RunMemcheck(CaseBinaries.Get("heap_invalid_frees.O2"), "--show-below-main=yes");
        string context = $"{report.Run.CommandLine}\nstderr:\n{report.Run.StderrText}";
        JsonElement error = report.Errors.First(e => e.GetProperty("message").GetString()!.Contains("not a heap address"));
        var functions = error.GetProperty("stack").EnumerateArray()
            .Select(f => f.TryGetProperty("function", out var n) ? n.GetString() : "??").ToList();
        Assert.True(functions.Count >= 3 && functions[0] == "main" && functions.Skip(1).Any(f => f!.Contains("libc_start")),
            $"stack: {string.Join(" <- ", functions)}\n{context}");
    }

    [Fact]
    public void LeaksAtExit_ByDefaultAreSummarizedNotErrors()
    {
        // Valgrind's --leak-check=summary: the scan runs, the bytes show under ERRORS IGNORED, and
        // neither the error list nor --error-exitcode sees them.
        var report = RunMemcheck(CaseBinaries.Get("leaks"), "--error-exitcode", "99");
        string context = $"{report.Run.CommandLine}\nstderr:\n{report.Run.StderrText}";

        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.True(report.Errors.Length == 0, $"leaks listed as errors\n{context}");
        JsonElement ignored = report.Root.GetProperty("summary").GetProperty("ignored");
        Assert.Equal(64, ignored.GetProperty("leak").GetProperty("bytes").GetInt32());
        Assert.Equal(100, ignored.GetProperty("possible-leak").GetProperty("bytes").GetInt32());
        Assert.Contains("NO ERRORS FOUND:", report.Run.StderrText);
        Assert.Matches(@"ERRORS IGNORED \(--leak-check=full lists them\):\n.*1 unique, +1 total, +64 byte\(s\) of leak", report.Run.StderrText);
    }

    [Fact]
    public void LeaksAtExit_WithLeakCheckNo_AreNotScanned()
    {
        var report = RunMemcheck(CaseBinaries.Get("leaks"), "--leak-check", "no");
        Assert.Empty(report.Errors);
        Assert.False(report.Root.GetProperty("summary").TryGetProperty("ignored", out _));
        Assert.DoesNotContain("ERRORS IGNORED", report.Run.StderrText);
    }

    [Fact]
    public void LeaksAtExit_DirectIndirectAndPossible()
    {
        const string source = "leaks.c";
        var report = RunMemcheck(CaseBinaries.Get("leaks"), "--leak-check=full");
        string context = $"{report.Run.CommandLine}\nstderr:\n{report.Run.StderrText}";
        var errors = report.Errors;

        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.True(errors.Length == 2, $"expected a leak and a possible leak\n{context}");
        JsonElement leak = errors.Single(e => e.GetProperty("kind").GetString() == "leak");
        Assert.Equal(64, leak.GetProperty("leak").GetProperty("bytes").GetInt32());
        Assert.Equal(32, leak.GetProperty("leak").GetProperty("indirect_bytes").GetInt32());
        AssertFrame(leak.GetProperty("stack")[0], "make", source, Line(source, "LINE_LOST"), context);
        JsonElement possible = errors.Single(e => e.GetProperty("kind").GetString() == "possible-leak");
        Assert.Equal(100, possible.GetProperty("leak").GetProperty("bytes").GetInt32());
        AssertFrame(possible.GetProperty("stack")[0], "make", source, Line(source, "LINE_INTERIOR"), context);
    }

    [Fact]
    public void MismatchedFamilies_AreReported()
    {
        const string source = "heap_mismatch.cpp";
        var report = RunMemcheck(CaseBinaries.Get("heap_mismatch"));
        string context = $"{report.Run.CommandLine}\nstderr:\n{report.Run.StderrText}";
        var errors = report.Errors;

        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.True(errors.Length == 2, $"expected 2 errors\n{context}");
        Assert.Contains("allocated with operator new[], freed with operator delete(void*", errors[0].GetProperty("message").GetString());
        AssertFrame(errors[0].GetProperty("stack")[0], "main", source, Line(source, "LINE_DELETE"), context);
        AssertFrame(errors[0].GetProperty("block").GetProperty("alloc_stack")[0], "main", source, Line(source, "LINE_NEW_ARRAY"), context);
        Assert.Contains("allocated with malloc, freed with operator delete[](void*)", errors[1].GetProperty("message").GetString());
        AssertFrame(errors[1].GetProperty("stack")[0], "main", source, Line(source, "LINE_DELETE_ARRAY"), context);
    }

    [Fact]
    public void ErrorExitCode_GatesOnErrorsOnly()
    {
        var failing = RunMemcheck(CaseBinaries.Get("heap_mismatch"), "--error-exitcode", "23");
        Assert.Equal(23, failing.Run.ExitCode);
        Assert.Equal(0, failing.Root.GetProperty("exit_code").GetInt32());

        var clean = RunMemcheck(CaseBinaries.Get("cxx_exceptions"), "--error-exitcode", "23");
        Assert.Equal(0, clean.Run.ExitCode);
        Assert.Empty(clean.Errors);
    }

    [Fact]
    public void CleanPrograms_ReportNothing()
    {
        foreach (string name in new[] { "stdio_qsort_setjmp", "cxx_exceptions", "cxx_static_init_and_unwind" })
        {
            var native = ProcessRunner.Run(CaseBinaries.Get(name), [], stdin: "line\n"u8.ToArray());
            var report = RunMemcheck(CaseBinaries.Get(name));
            Assert.Equal(native.StdoutText, report.Run.StdoutText);
            Assert.Empty(report.Errors);
            Assert.Contains("memcheck: NO ERRORS FOUND", report.Run.StderrText);
        }
    }

    [Fact]
    public void RoundingModeSurvivesReplacedCalls()
    {
        string program = CaseBinaries.Get("rounding_across_malloc");
        var native = ProcessRunner.Run(program, []);
        var report = RunMemcheck(program);
        Assert.StartsWith("1 ", native.StdoutText);
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
    }

    [Fact]
    public void CrashingProgram_StillWritesItsReport()
    {
        var report = RunMemcheck(CaseBinaries.Get("null_deref"));
        Assert.Equal(128 + 11, report.Root.GetProperty("exit_code").GetInt32());
        // The faulting read is the error (Valgrind's invalid read before the death), never "NO ERRORS FOUND".
        Assert.Equal("unaddressable", Assert.Single(report.Errors).GetProperty("kind").GetString());
        Assert.Equal("SIGSEGV", report.Root.GetProperty("signal").GetProperty("name").GetString());
        Assert.DoesNotContain("NO ERRORS FOUND", report.Run.StderrText);
    }
}
