using System.Diagnostics;
using Checker.Engine.Loading;
using Checker.Engine.Memory;
using Checker.Symbols.DebugFiles;
using Checker.Symbols.Elf;
using Checker.Tests.Elf;
using Checker.Tests.EndToEnd;
using Xunit;
using Xunit.Abstractions;

namespace Checker.Tests.Loading;

/// <summary>The real binaries the fuzzer mutates: static non-PIE, dynamic PIE, dynamic non-PIE (all with symbols and DWARF).</summary>
public sealed class FuzzOriginals : IDisposable
{
    private const string Source = """
        #include <stdio.h>
        #include <stdlib.h>
        static int table[64];
        int main(int argc, char **argv) {
            for (int i = 0; i < 64; i++) table[i] = i * argc;
            char *p = malloc(32);
            snprintf(p, 32, "%d", table[63]);
            puts(p);
            free(p);
            return table[5] + (argv[0] != 0);
        }
        """;

    private readonly CCompiler _compiler = new();

    public FuzzOriginals()
    {
        Files =
        [
            ("static", File.ReadAllBytes(_compiler.Compile("fuzz-static", Source, "-static", "-O1", "-g"))),
            ("pie", File.ReadAllBytes(_compiler.Compile("fuzz-pie", Source, "-fPIE", "-pie", "-O1", "-g"))),
            ("nopie", File.ReadAllBytes(_compiler.Compile("fuzz-nopie", Source, "-no-pie", "-O1", "-g"))),
        ];
    }

    public IReadOnlyList<(string Name, byte[] Bytes)> Files { get; }

    public void Dispose() => _compiler.Dispose();
}

/// <summary>
/// A mutation fuzzer of the ELF loader: damaged headers, program headers, section headers, data
/// and truncations of real binaries (<see cref="ElfMutator"/>), from a fixed seed so a failure
/// reproduces. In-process every mutant goes through <see cref="ElfImage.Parse(string, byte[])"/> and
/// the loader's checks; a sample runs end to end under ./memcheck with a timeout and a memory cap.
/// Neither may see a crash, a hang or runaway memory. Bounded by a count and a wall-clock budget
/// (not a timing assertion); a big sweep by hand:
/// <c>CHECKER_FUZZ_ITERATIONS=200000 CHECKER_FUZZ_RUNS=7000 CHECKER_FUZZ_SECONDS=36000 dotnet test --filter ElfLoaderFuzzTests</c>.
/// </summary>
public class ElfLoaderFuzzTests(FuzzOriginals originals, ITestOutputHelper output) : IClassFixture<FuzzOriginals>
{
    private static readonly int Seed = Setting("CHECKER_FUZZ_SEED", 0x0e1f_0008);
    private static readonly int Iterations = Setting("CHECKER_FUZZ_ITERATIONS", 6000);
    private static readonly int Runs = Setting("CHECKER_FUZZ_RUNS", 12);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(Setting("CHECKER_FUZZ_SECONDS", 4));
    private const long RssCap = 2L << 30;
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Mutants_ParseAndCheckOrFailWithOneElfFormatLine()
    {
        var streams = Streams(Seed);
        var outcomes = new Dictionary<string, int>();
        var failures = new List<string>();
        ElfMutant? current = null;
        int done = 0;
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() =>
        {
            for (int i = 0; i < Iterations && clock.Elapsed < Budget; i++)
            {
                ElfMutant? mutant = null;
                try
                {
                    current = mutant = streams[i % streams.Length].Next();
                    string outcome = Exercise(mutant.Bytes);
                    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                }
                catch (Exception e)
                {
                    failures.Add(mutant == null ? $"the mutator failed: {e}" : Describe(mutant, $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}"));
                }
                done++;
            }
        }, 64 << 20);
        worker.Start();
        // A parse that loops would never come back: name the mutant instead of hanging the run.
        bool finished = worker.Join(Budget + TimeSpan.FromSeconds(120));
        output.WriteLine($"seed 0x{Seed:x}: {done} mutants in {clock.Elapsed.TotalSeconds:0.0} s: " +
                         string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        if (!finished) Assert.Fail(current == null ? "the fuzzer never started" : Describe(current, "still running after 2 minutes (a hang?)"));
        Assert.True(failures.Count == 0, $"{failures.Count} mutants escaped with an exception:\n" + string.Join("\n\n", failures.Take(5)));
        Assert.True(done >= Math.Min(Iterations, 300), $"only {done} mutants in the budget");
    }

    [Fact]
    public void MutantSample_RunsUnderMemcheckWithoutCrashHangOrRunawayMemory()
    {
        string directory = Scratch.NewDirectory("elf-fuzz");
        string memcheck = MemcheckLauncher.Executable;
        var streams = Streams(Seed + 1000);
        var outcomes = new Dictionary<string, int>();
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        int runs = 0, loadable = 0;
        for (int i = 0; runs < Runs && clock.Elapsed < Budget * 3; i++)
        {
            ElfMutant mutant = streams[i % streams.Length].Next();
            // Three in four run deep (past the checks); the rest are refused ones.
            bool deep = Exercise(mutant.Bytes) == "loadable";
            if (deep != (runs % 4 != 3)) continue;
            loadable += deep ? 1 : 0;
            runs++;
            string path = Path.Combine(directory, $"{mutant.Original}-{mutant.Index}");
            File.WriteAllBytes(path, mutant.Bytes);
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);

            CappedRunResult result = CappedRun.Run(memcheck, ["--", path], RunTimeout, RssCap, directory);
            string? problem = Problem(result, path, directory);
            string outcome = problem != null ? "FAILED" : Outcome(result);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            if (problem != null) failures.Add(Describe(mutant, $"{problem}\nexit {result.ExitCode}, stderr:\n{Tail(result.Stderr)}"));
        }
        output.WriteLine($"seed 0x{Seed + 1000:x}: {runs} mutants ({loadable} loadable) run in {clock.Elapsed.TotalSeconds:0.0} s: " +
                         string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.True(failures.Count == 0, $"{failures.Count} runs went wrong:\n" + string.Join("\n\n", failures.Take(5)));
        Assert.True(runs >= Math.Min(Runs, 4), $"only {runs} runs in the budget");
    }

    private ElfMutator[] Streams(int seed) =>
        originals.Files.Select((f, k) => new ElfMutator(f.Name, f.Bytes, seed + k)).ToArray();

    /// <summary>
    /// What the loader does with a file before mapping it, in process: parse, every best-effort
    /// part (sections, symbols, notes, debuglink and its candidate files), binfmt_elf's checks and
    /// the values derived from the program headers, and a placement in a code window.
    /// </summary>
    private static string Exercise(byte[] bytes)
    {
        ElfImage image;
        try { image = ElfImage.Parse("mutant", bytes); }
        catch (ElfFormatException e) { return OneLine(e, "refused"); }
        _ = image.ReadSymbols();
        foreach (ElfSection section in image.Sections) _ = image.GetSectionData(section).Length;
        foreach (ElfProgramHeader segment in image.ProgramHeaders) _ = image.GetSegmentData(segment).Length;
        _ = (image.Interpreter, image.InterpreterError, image.BuildId, image.DebugLink, image.DebugLinkCrc);
        _ = new DebugFileLocator(Path.Combine(Path.GetTempPath(), "checker-no-debug-root")).FindImage(image);
        try { BinfmtRules.CheckLoadable(image); }
        catch (ElfFormatException e) { return OneLine(e, "not loadable"); }
        _ = BinfmtRules.ProgramHeaderVirtualAddress(image);
        ulong span = image.HighestLoadAddress - image.LowestLoadAddress;
        var window = CodeWindow.Around(AddressSpaceLayout.CodeCacheStart, AddressSpaceLayout.CodeCacheStart + AddressSpaceLayout.CodeCacheSize);
        _ = window.Candidate(span, BinfmtRules.MaximumAlignment(image), BinfmtRules.CodeExtent(image));
        return image.InterpreterError != null ? "bad PT_INTERP" : "loadable";
    }

    private static string OneLine(ElfFormatException e, string outcome)
    {
        if (e.Message.Contains('\n') || e.Message.Length == 0) throw new InvalidOperationException($"not one line: '{e.Message}'");
        return outcome;
    }

    /// <summary>Null when the run ended in a way memcheck may end; otherwise what went wrong.</summary>
    private static string? Problem(CappedRunResult result, string path, string directory)
    {
        if (result.OverMemoryCap) return $"resident memory passed {RssCap >> 20} MB";
        if (result.Stderr.Contains("internal error") || result.Stderr.Contains("Unhandled exception") || result.Stderr.Contains("\n   at "))
            return "a .NET exception escaped";
        if (result.TimedOut)
        {
            // The guest's own endless loop is not memcheck's hang: natively it must loop too.
            CappedRunResult native = CappedRun.Run(path, [], RunTimeout, RssCap, directory);
            return native.TimedOut ? null : $"no end after {RunTimeout.TotalSeconds:0} s (natively it ends with {native.ExitCode})";
        }
        if (result.ExitCode > 128 && !result.Stderr.Split('\n').Any(l => l.StartsWith("memcheck: ", StringComparison.Ordinal) &&
                (l.Contains("killed by") || l.Contains("ERRORS FOUND") || l.Contains("SIG"))))
            return $"memcheck died of signal {result.ExitCode - 128} without a word about the program's death";
        return null;
    }

    private static string Outcome(CappedRunResult result) => result switch
    {
        { TimedOut: true } => "guest loops (natively too)",
        { ExitCode: 126 or 127 } => "refused",
        { ExitCode: 125 } => "engine failure",
        { ExitCode: > 128 } => "guest died of a signal",
        _ => "ran",
    };

    /// <summary>The mutant's recipe (stream seed, index, edits) and a copy of it kept for a look.</summary>
    private static string Describe(ElfMutant mutant, string what)
    {
        string kept = Path.Combine(Path.GetTempPath(), "checker-elf-fuzz-failures", $"{mutant.Original}-{mutant.Seed:x}-{mutant.Index}");
        Directory.CreateDirectory(Path.GetDirectoryName(kept)!);
        File.WriteAllBytes(kept, mutant.Bytes);
        return $"{mutant.Original} mutant #{mutant.Index} of the stream seeded 0x{mutant.Seed:x} (kept as {kept}): {mutant.Description}\n{what}";
    }

    private static string Tail(string text) => text.Length <= 1500 ? text : "..." + text[^1500..];

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) ? value : fallback;
}
