using System.Text.RegularExpressions;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Heap;

/// <summary>
/// --tool memcheck replaces the malloc family: invalid heap arguments are reported with the
/// innermost frame at the offending line of the case's own source, and the block's history.
/// </summary>
public class HeapArgumentTests
{
    private static RunResult RunMemcheck(string program) =>
        MemcheckLauncher.Run(["--tool", "memcheck", "--", program], null, null, null);

    /// <summary>The line of the source that carries <paramref name="marker"/>.</summary>
    private static int Line(string source, string marker) =>
        Array.FindIndex(File.ReadAllLines(Path.Combine(RepoPaths.Cases, source)), l => l.Contains(marker)) + 1;

    /// <summary>Each error: its headline and its frame lines (the "#n ..." lines up to the next headline or note).</summary>
    private static List<(string Headline, List<string> Frames)> Errors(RunResult result)
    {
        var errors = new List<(string, List<string>)>();
        foreach (string line in NativeComparison.MemcheckLines(result.Stderr))
        {
            string text = line["memcheck: ".Length..].Trim();
            if (text.StartsWith("Error #", StringComparison.Ordinal)) errors.Add((text, []));
            else if (text.StartsWith('#') && errors.Count > 0) errors[^1].Item2.Add(text);
        }
        return errors;
    }

    private static void AssertInnermostAt(List<string> frames, string function, string source, int line, string context)
    {
        string path = Path.Combine(RepoPaths.Cases, source);
        Assert.True(frames.Count > 0 && Regex.IsMatch(frames[0], $@"^#0 {Regex.Escape(function)}(\(.*\))? \[{Regex.Escape(path)}:{line}\]"),
            $"expected #0 {function} [{path}:{line}], got '{frames.FirstOrDefault()}'\n{context}");
    }

    [Fact]
    public void DoubleStackInteriorAndStaleFrees_AreReportedAtTheirLines()
    {
        const string source = "heap_invalid_frees.c";
        var result = RunMemcheck(CaseBinaries.Get("heap_invalid_frees"));
        string context = $"{result.CommandLine}\nstderr:\n{result.StderrText}";
        var errors = Errors(result);

        Assert.Equal("done\n", result.StdoutText);
        Assert.Equal(0, result.ExitCode);
        Assert.True(errors.Count == 4, $"expected 4 errors\n{context}");

        Assert.Contains("double free", errors[0].Headline);
        AssertInnermostAt(errors[0].Frames, "release", source, Line(source, "LINE_RELEASE"), context);
        Assert.Contains($"main [{Path.Combine(RepoPaths.Cases, source)}:{Line(source, "LINE_DOUBLE")}]", errors[0].Frames[1]);

        Assert.Contains("not a heap address", errors[1].Headline);
        AssertInnermostAt(errors[1].Frames, "main", source, Line(source, "LINE_STACK"), context);

        Assert.Contains("points inside a block", errors[2].Headline);
        AssertInnermostAt(errors[2].Frames, "main", source, Line(source, "LINE_INTERIOR"), context);

        Assert.Contains("double free", errors[3].Headline);   // realloc always moves: r was freed by it
        AssertInnermostAt(errors[3].Frames, "main", source, Line(source, "LINE_STALE"), context);

        Assert.Contains($"main [{Path.Combine(RepoPaths.Cases, source)}:{Line(source, "LINE_ALLOC")}]", result.StderrText);
        Assert.Contains("ERRORS FOUND: 4 unique, 4 total", result.StderrText);
    }

    [Fact]
    public void MismatchedFamilies_AreReported()
    {
        const string source = "heap_mismatch.cpp";
        var result = RunMemcheck(CaseBinaries.Get("heap_mismatch"));
        string context = $"{result.CommandLine}\nstderr:\n{result.StderrText}";
        var errors = Errors(result);

        Assert.Equal("done\n", result.StdoutText);
        Assert.True(errors.Count == 2, $"expected 2 errors\n{context}");
        Assert.Contains("allocated with operator new[], freed with operator delete(void*", errors[0].Headline);
        AssertInnermostAt(errors[0].Frames, "main", source, Line(source, "LINE_DELETE"), context);
        Assert.Contains("allocated with malloc, freed with operator delete[](void*)", errors[1].Headline);
        AssertInnermostAt(errors[1].Frames, "main", source, Line(source, "LINE_DELETE_ARRAY"), context);
    }

    [Fact]
    public void CleanPrograms_ReportNothing()
    {
        foreach (string name in new[] { "stdio_qsort_setjmp", "cxx_exceptions", "cxx_static_init_and_unwind" })
        {
            var native = ProcessRunner.Run(CaseBinaries.Get(name), [], stdin: "line\n"u8.ToArray());
            var result = MemcheckLauncher.Run(["--tool", "memcheck", "--", CaseBinaries.Get(name)], "line\n"u8.ToArray(), null, null);
            Assert.Equal(native.StdoutText, result.StdoutText);
            Assert.Contains("memcheck: NO ERRORS FOUND", result.StderrText);
        }
    }
}
