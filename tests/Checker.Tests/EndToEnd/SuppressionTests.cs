using System.Text.Json;
using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// --suppressions, --gen-suppressions and the summary of what was suppressed, on real programs:
/// tests/cases/suppressions.c (seven errors, each in its own function) and suppressions_cxx.cpp
/// (C++ names). A generated block silences exactly its error; Valgrind's own generated blocks for
/// the same binary silence ours; hand-written files with wildcards, mangled and demangled names,
/// obj: paths, Param lines and match-leak-kinds match what Valgrind would; a file that does not
/// parse stops memcheck with one line and exit 2.
/// </summary>
public class SuppressionTests
{
    private const string Source = "suppressions.c";
    private const string CxxSource = "suppressions_cxx.cpp";
    private const string Placeholder = "<insert_a_suppression_name_here>";

    private static string Program => CaseBinaries.Get("suppressions");
    private static string CxxProgram => CaseBinaries.Get("suppressions_cxx");

    // The errors of suppressions.c by the marker of their innermost line in the program's own code.
    private static readonly string[] AllMarkers =
        ["SUPP_OVERFLOW", "SUPP_COND", "SUPP_PARAM", "SUPP_FREE", "SUPP_LEAK_MALLOC", "SUPP_LEAK_CALLOC", "SUPP_LEAK_POSSIBLE"];

    private static MemcheckReport Run(string program, params string[] options) =>
        RunMemcheck(program, ["--leak-check=full", .. options]);

    private static string WriteFile(string text, string name = "test.supp")
    {
        string path = Path.Combine(Scratch.NewDirectory("suppressions"), name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The line of each error's first frame in <paramref name="source"/> (the stack's first frame there: below libc's write, below the allocator).</summary>
    private static int[] SourceLines(MemcheckReport report, string source) => report.Errors
        .Select(e => e.GetProperty("stack").EnumerateArray()
            .First(f => f.TryGetProperty("file", out var file) && file.GetString() == Path.Combine(RepoPaths.Cases, source))
            .GetProperty("line").GetInt32())
        .Order().ToArray();

    private static int[] Lines(string source, IEnumerable<string> markers) => markers.Select(m => Line(source, m)).Order().ToArray();

    private static (string Name, int Count)[] Suppressed(MemcheckReport report) =>
        report.Root.TryGetProperty("suppressed", out JsonElement used)
            ? used.EnumerateArray().Select(u => (u.GetProperty("name").GetString()!, u.GetProperty("count").GetInt32())).ToArray()
            : [];

    /// <summary>The blocks --gen-suppressions printed: the lines memcheck did not prefix, from each "{" to its "}".</summary>
    private static List<string> Blocks(IEnumerable<string> lines, Func<string, bool> isOther)
    {
        var blocks = new List<string>();
        List<string>? block = null;
        foreach (string line in lines)
        {
            if (isOther(line)) continue;
            if (line == "{") block = [];
            block?.Add(line);
            if (line == "}" && block != null)
            {
                blocks.Add(string.Join('\n', block) + "\n");
                block = null;
            }
        }
        return blocks;
    }

    private static List<string> GeneratedBlocks(MemcheckReport report) =>
        Blocks(report.Run.StderrText.Split('\n'), MemcheckLauncher.IsMessageLine);

    [Fact]
    public void EveryErrorIsFollowedByAReadyBlockAsValgrindWritesIt()
    {
        MemcheckReport report = Run(Program, "--gen-suppressions=all");
        Assert.Equal(Lines(Source, AllMarkers), SourceLines(report, Source));
        List<string> blocks = GeneratedBlocks(report);
        Assert.True(blocks.Count == AllMarkers.Length, $"{blocks.Count} blocks\n{report.Context}");
        // Valgrind's blocks for these errors, frame for frame (its stacks start in the allocator and in libc's write).
        Assert.Contains($"{{\n   {Placeholder}\n   Memcheck:Addr1\n   fun:overflow_heap\n   fun:main\n}}\n", blocks);
        Assert.Contains($"{{\n   {Placeholder}\n   Memcheck:Cond\n   fun:decide_uninit\n   fun:main\n}}\n", blocks);
        Assert.Contains($"{{\n   {Placeholder}\n   Memcheck:Param\n   write(buf)\n   fun:write\n   fun:write_uninit\n   fun:main\n}}\n", blocks);
        Assert.Contains($"{{\n   {Placeholder}\n   Memcheck:Free\n   fun:free\n   fun:free_twice\n   fun:main\n}}\n", blocks);
        Assert.Contains($"{{\n   {Placeholder}\n   Memcheck:Leak\n   match-leak-kinds: definite\n   fun:calloc\n   fun:leak_calloc\n   fun:main\n}}\n", blocks);
        Assert.Contains($"{{\n   {Placeholder}\n   Memcheck:Leak\n   match-leak-kinds: possible\n   fun:malloc\n   fun:leak_possible\n   fun:main\n}}\n", blocks);
        // Each block comes right after its error's report (the next line after the block is memcheck's again).
        string[] lines = report.Run.StderrText.Split('\n');
        int first = Array.IndexOf(lines, "{");
        Assert.True(first > 0 && MemcheckLauncher.IsMessageLine(lines[first - 1]), report.Context);
    }

    [Fact]
    public void AGeneratedBlockSilencesExactlyItsErrorAndTheExitCodeFollows()
    {
        MemcheckReport generated = Run(Program, "--gen-suppressions=all");
        List<string> blocks = GeneratedBlocks(generated);
        string overflow = Assert.Single(blocks, b => b.Contains("fun:overflow_heap"));
        string cond = Assert.Single(blocks, b => b.Contains("fun:decide_uninit"));

        // One block: that error is gone, every other one is still there, and --error-exitcode still applies.
        MemcheckReport one = Run(Program, "--suppressions", WriteFile(overflow), "--error-exitcode=7");
        Assert.Equal(Lines(Source, AllMarkers.Where(m => m != "SUPP_OVERFLOW")), SourceLines(one, Source));
        Assert.Equal([(Placeholder, 1)], Suppressed(one));
        Assert.Equal(7, one.Run.ExitCode);
        Assert.Contains($"{MemcheckLauncher.MessagePrefix}SUPPRESSED: 1 error(s) by 1 suppression(s):\n", one.Run.StderrText);

        // The two errors of two functions: each block silences its own.
        MemcheckReport two = Run(Program, "--suppressions", WriteFile(overflow), "--suppressions", WriteFile(cond), "--error-exitcode=7");
        Assert.Equal(Lines(Source, AllMarkers.Where(m => m is not ("SUPP_OVERFLOW" or "SUPP_COND"))), SourceLines(two, Source));
        Assert.Equal([(Placeholder, 2)], Suppressed(two));

        // Every block: nothing left, so the program's own status (0), not --error-exitcode's.
        MemcheckReport all = Run(Program, "--suppressions", WriteFile(string.Concat(blocks)), "--error-exitcode=7");
        Assert.Empty(all.Errors);
        Assert.Equal(0, all.Run.ExitCode);
        Assert.Equal(0, all.Root.GetProperty("summary").GetProperty("total").GetInt32());
        // Leaks count one per block, as the summary counts them.
        Assert.Equal([(Placeholder, AllMarkers.Length)], Suppressed(all));
        Assert.Contains("NO ERRORS FOUND", all.Run.StderrText);
    }

    /// <summary>The blocks valgrind --gen-suppressions=all --leak-check=full writes for <paramref name="program"/>.</summary>
    /// <param name="exitCode">The status the program ends with under valgrind.</param>
    private static List<string> ValgrindBlocks(string program, int exitCode = 0)
    {
        string log = Path.Combine(Scratch.NewDirectory("valgrind-supp"), "valgrind.log");
        RunResult valgrind = ProcessRunner.Run("valgrind",
            ["-q", "--gen-suppressions=all", "--leak-check=full", $"--log-file={log}", program], timeout: TimeSpan.FromSeconds(300));
        Assert.True(valgrind.ExitCode == exitCode, $"{valgrind.CommandLine}: exit {valgrind.ExitCode}\n{valgrind.StderrText}");
        return Blocks(File.ReadAllLines(log), line => line.StartsWith("==", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("suppressions", 7)]
    [InlineData("suppressions_cxx", 4)]
    // Mangled names of a method, a static function in a namespace (_ZN2nsL1fEPi), one in an
    // anonymous namespace, and an always-inlined call named as DWARF names it (fun:inlined).
    [InlineData("cxx_namespaced_frames", 6)]
    public void OurBlocksAreTheOnesValgrindWritesForTheSameProgram(string name, int errors)
    {
        string program = CaseBinaries.Get(name);
        List<string> valgrind = ValgrindBlocks(program);
        Assert.Equal(errors, valgrind.Count);
        MemcheckReport report = Run(program, "--gen-suppressions=all");
        // The same blocks, byte for byte; only the order of leak records may differ.
        Assert.Equal(valgrind.Order(StringComparer.Ordinal), GeneratedBlocks(report).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AFishyNewIsNamedAsValgrindNamesIt()
    {
        string program = CaseBinaries.Get("suppressions_fishy");
        // Valgrind cannot throw std::bad_alloc: it reports the error, then aborts the program (exit 1).
        string expected = Assert.Single(ValgrindBlocks(program, exitCode: 1));
        Assert.Contains("   Memcheck:FishyValue\n   __builtin_vec_new(size)\n   fun:_Znam\n   fun:main\n", expected);
        MemcheckReport report = Run(program, "--gen-suppressions=all");
        Assert.Equal([expected], GeneratedBlocks(report));
        MemcheckReport suppressed = Run(program, "--suppressions", WriteFile(expected));
        Assert.Empty(suppressed.Errors);
        Assert.Equal([(Placeholder, 1)], Suppressed(suppressed));
    }

    [Fact]
    public void ASystemProgramsBlockIsValgrinds()
    {
        // xz's worker threads still run at exit: the thread-local blocks ld.so gave them are
        // "possibly lost" under both. The block crosses libc's versioned pthread_create@@GLIBC_2.34,
        // ld.so's inlined calloc wrapper (rtld-malloc.h), stripped liblzma and xz frames (obj:) and
        // ends at (below main).
        string input = Path.Combine(Scratch.NewDirectory("xz-supp"), "input.txt");
        File.WriteAllBytes(input, TestData.RandomLines(seed: 11, targetBytes: 1 << 20));
        string[] command = ["/usr/bin/xz", "-T2", "-1", "-c", input];
        string log = Path.Combine(Path.GetDirectoryName(input)!, "valgrind.log");
        RunResult valgrind = ProcessRunner.Run("valgrind",
            ["-q", "--gen-suppressions=all", "--leak-check=full", $"--log-file={log}", .. command], timeout: TimeSpan.FromSeconds(300));
        Assert.True(valgrind.ExitCode == 0, $"{valgrind.CommandLine}: exit {valgrind.ExitCode}\n{valgrind.StderrText}");
        List<string> expected = Blocks(File.ReadAllLines(log), line => line.StartsWith("==", StringComparison.Ordinal));
        Assert.Contains(expected, b => b.Contains("   fun:pthread_create@@GLIBC_2.") && b.Contains("   obj:/usr/bin/xz\n"));

        // Without memcheck's default file, whose entry for the threads' DTVs (default.supp) silences these.
        MemcheckReport report = RunMemcheckCommand(command, "--leak-check=full", "--gen-suppressions=all", "--default-suppressions=no");
        Assert.Equal(expected.Order(StringComparer.Ordinal), GeneratedBlocks(report).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ValgrindsOwnGeneratedBlocksSilenceOurErrors()
    {
        foreach ((string program, int errors) in new[] { (Program, AllMarkers.Length), (CxxProgram, 4) })
        {
            List<string> blocks = ValgrindBlocks(program);
            Assert.Equal(errors, blocks.Count);
            MemcheckReport unsuppressed = Run(program);
            Assert.Equal(errors, unsuppressed.Errors.Length);
            MemcheckReport report = Run(program, "--suppressions", WriteFile(string.Concat(blocks), "valgrind.supp"), "--error-exitcode=7");
            Assert.True(report.Errors.Length == 0, $"not suppressed: {string.Join(" | ", report.Errors.Select(e => Describe(e.GetProperty("stack"))))}\n{report.Context}");
            Assert.Equal(0, report.Run.ExitCode);
            int occurrences = unsuppressed.Errors.Sum(e => e.GetProperty("count").GetInt32());
            Assert.Equal([(Placeholder, occurrences)], Suppressed(report));
        }
    }

    [Fact]
    public void HandWrittenFileWithWildcardsMangledNamesAndObjects()
    {
        string program = CxxProgram;
        string file = WriteFile($$"""
            # Valgrind's format, as a user writes it.
            {
               resize's overflow, by its mangled name with a wildcard
               Memcheck:Addr4
               fun:_ZN6shapes6Widget*
               ...
               fun:main
            }
            {
               operator new's leak: ? in the allocator's name, then any frame of the program's object
               Memcheck:Leak
               match-leak-kinds: definite
               fun:_Znw?
               obj:*/{{Path.GetFileName(program)}}
            }
            {
               new[] in resize, by its demangled name
               Memcheck:Leak
               fun:_Znam
               fun:shapes::Widget::resize(unsigned long)
            }
            {
               a Free suppression that does not fit: the stack has no such caller
               Memcheck:Free
               fun:_ZdlPv*
               fun:not_the_caller
            }
            """);
        MemcheckReport report = Run(program, "--suppressions", file);
        JsonElement remaining = Assert.Single(report.Errors);
        AssertFrame(remaining.GetProperty("stack")[0], "mismatched_delete()", CxxSource, Line(CxxSource, "SUPPX_MISMATCH"), report.Context);
        Assert.Equal(
            [
                ("resize's overflow, by its mangled name with a wildcard", 1),
                // Leaks in order of their blocks' addresses: resize's new[] came first.
                ("new[] in resize, by its demangled name", 1),
                ("operator new's leak: ? in the allocator's name, then any frame of the program's object", 1),
            ],
            Suppressed(report));
    }

    [Fact]
    public void LeakSuppressionsMatchTheirLeakKinds()
    {
        string possibleOnly = WriteFile("""
            {
               every possible leak from malloc
               Memcheck:Leak
               match-leak-kinds: possible
               fun:malloc
               ...
               fun:main
            }
            """);
        MemcheckReport report = Run(Program, "--suppressions", possibleOnly);
        Assert.Equal(Lines(Source, AllMarkers.Where(m => m != "SUPP_LEAK_POSSIBLE")), SourceLines(report, Source));
        Assert.Equal([("every possible leak from malloc", 1)], Suppressed(report));

        // Without match-leak-kinds every kind matches: both malloc leaks go, calloc's stays.
        string anyKind = WriteFile("{\n any leak from malloc\n Memcheck:Leak\n fun:malloc\n fun:leak_*\n}\n");
        MemcheckReport any = Run(Program, "--suppressions", anyKind);
        Assert.Equal(Lines(Source, AllMarkers.Where(m => m is not ("SUPP_LEAK_POSSIBLE" or "SUPP_LEAK_MALLOC"))), SourceLines(any, Source));

        // Under --leak-check=summary suppressed leaks are left out of ERRORS IGNORED too, and still counted as suppressed.
        MemcheckReport summary = RunMemcheck(Program, "--suppressions", anyKind);
        JsonElement ignored = summary.Root.GetProperty("summary").GetProperty("ignored");
        Assert.Equal(1, ignored.GetProperty("leak").GetProperty("total").GetInt32() + (ignored.TryGetProperty("possible-leak", out var p) ? p.GetProperty("total").GetInt32() : 0));
        Assert.Equal([("any leak from malloc", 2)], Suppressed(summary));
    }

    [Fact]
    public void ParamSuppressionsNeedTheirCallAndParameter()
    {
        string right = WriteFile("{\n write's buffer\n Memcheck:Param\n write(buf)\n fun:write\n fun:write_uninit\n}\n");
        MemcheckReport report = Run(Program, "--suppressions", right);
        Assert.Equal(Lines(Source, AllMarkers.Where(m => m != "SUPP_PARAM")), SourceLines(report, Source));
        Assert.Equal([("write's buffer", 1)], Suppressed(report));

        string wrongParameter = WriteFile("{\n another parameter\n Memcheck:Param\n write(count)\n fun:write\n}\n");
        MemcheckReport unchanged = Run(Program, "--suppressions", wrongParameter);
        Assert.Equal(Lines(Source, AllMarkers), SourceLines(unchanged, Source));
        Assert.Empty(Suppressed(unchanged));
    }

    [Fact]
    public void AMalformedFileIsOneLineAndExitTwoBeforeTheProgramRuns()
    {
        string file = WriteFile("{\n fine\n Memcheck:Cond\n fun:f\n}\n{\n broken\n Memcheck:Addr3\n fun:f\n}\n", "broken.supp");
        var run = MemcheckLauncher.Run(["--suppressions", file, "--", CaseBinaries.HelloStatic]);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"memcheck: --suppressions {file}:8: unknown Memcheck suppression kind 'Addr3'\n", run.StderrText);
        Assert.Empty(run.Stdout); // the program never ran
    }

    [Fact]
    public void VerboseListsTheFilesReadAndWhereEachUsedSuppressionIs()
    {
        string file = WriteFile("# one\n{\n the overflow\n Memcheck:Addr1\n fun:overflow_heap\n}\n");
        MemcheckReport verbose = Run(Program, "-v", "--suppressions", file);
        string text = verbose.Run.StderrText;
        Assert.Contains("memcheck: Reading suppressions file: default.supp (built into memcheck) (2 suppression(s))\n", text);
        Assert.Contains($"memcheck: Reading suppressions file: {file} (1 suppression(s))\n", text);
        Assert.Contains($"memcheck:       1 the overflow ({file}:3)\n", text);

        MemcheckReport quiet = Run(Program, "-v", "--default-suppressions=no", "--suppressions", file);
        Assert.DoesNotContain("default.supp", quiet.Run.StderrText);
        Assert.Contains("memcheck:       1 the overflow (", quiet.Run.StderrText);

        // Without -v the used suppressions are listed all the same, without where they are.
        MemcheckReport plain = Run(Program, "--suppressions", file);
        Assert.Contains("memcheck:       1 the overflow\n", plain.Run.StderrText);
        Assert.DoesNotContain("Reading suppressions file", plain.Run.StderrText);
    }
}
