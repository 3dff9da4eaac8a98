using Checker.Tests.Heap;
using System.Text.RegularExpressions;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Translations kept across runs (--translation-cache): a second run takes the first run's
/// fragments into use, never one whose guest code has changed since, and reports the same.
/// </summary>
public class PersistedTranslationTests
{
    private static RunResult RunWithCache(string cacheDirectory, string program, params string[] arguments) =>
        MemcheckLauncher.RunToolNone(program, arguments, extraOptions: ["--stats=yes", "--translation-cache=" + cacheDirectory]);

    private static long Statistic(RunResult run, string name)
    {
        Match m = Regex.Match(run.StderrText, $@"^memcheck: +{Regex.Escape(name)} +(\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no '{name}' line in:\n{run.StderrText}");
        return long.Parse(m.Groups[1].Value);
    }

    [Fact]
    public void SecondRun_ReusesTheFirstRunsTranslations_AndRewrittenCodeRunsAnew()
    {
        string cache = Scratch.NewDirectory("xlt-rewrite");
        string program = CaseBinaries.Get("code_rewrite");
        const string expected = "first: 1\nafter remap: 2\nafter rewrite: 3\nafter rewrite: 4\nafter rewrite: 5\n";

        RunResult first = RunWithCache(cache, program);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(expected, first.StdoutText);
        Assert.Equal(0, Statistic(first, "fragments loaded"));
        Assert.Single(Directory.GetFiles(cache, "*.xlt"));

        // The generated page's last translation (mov eax, 5) is persisted; this run's first call
        // finds mov eax, 1 there and must not take it.
        RunResult second = RunWithCache(cache, program);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(expected, second.StdoutText);
        long loaded = Statistic(second, "fragments loaded"), reused = Statistic(second, "reused");
        // Flushed fragments are not kept (among them the first translation of each lazily bound PLT stub).
        Assert.True(loaded >= Statistic(first, "fragments built") - Statistic(first, "fragments flushed") - 16, $"{first.StderrText}\n{second.StderrText}");
        Assert.True(reused > loaded / 2, second.StderrText);
        Assert.True(Statistic(second, "fragments built") < Statistic(first, "fragments built") / 4, second.StderrText);
    }

    [Fact]
    public void RebuiltProgramAtTheSamePath_RunsItsOwnCode()
    {
        string cache = Scratch.NewDirectory("xlt-rebuilt");
        string program = Path.Combine(Scratch.NewDirectory("xlt-program"), "variant");
        File.Copy(CaseBinaries.Get("persisted_variant.1"), program);

        RunResult first = RunWithCache(cache, program, "7");
        Assert.Equal("built 1 generated 7\n", first.StdoutText);
        RunResult again = RunWithCache(cache, program, "7");
        Assert.Equal("built 1 generated 7\n", again.StdoutText);
        Assert.True(Statistic(again, "reused") > 0, again.StderrText);

        // Same path, same layout, one immediate changed in built_value, another in the generated page.
        File.Copy(CaseBinaries.Get("persisted_variant.2"), program, overwrite: true);
        RunResult rebuilt = RunWithCache(cache, program, "8");
        Assert.Equal(0, rebuilt.ExitCode);
        Assert.Equal("built 2 generated 8\n", rebuilt.StdoutText);
        Assert.True(Statistic(rebuilt, "reused") > 0, rebuilt.StderrText);   // libc's code is the same
    }

    [Fact]
    public void RebuiltCodeAfterAnUnchangedBlock_IsNotTakenFromTheSnapshot()
    {
        // Under memcheck a block's translation depends on the code its exits lead to (which
        // registers it overwrites first): build 1's join overwrites rcx before reading it, so the
        // checked load before it borrows rcx; build 2's join reads it. The load's block is the same
        // bytes at the same address in both builds.
        string cache = Scratch.NewDirectory("xlt-exit-facts");
        string program = Path.Combine(Scratch.NewDirectory("xlt-exit-program"), "probe");
        static RunResult Run(string cache, string program) =>
            MemcheckLauncher.Run(["--stats=yes", "--translation-cache=" + cache, "--", program]);

        File.Copy(CaseBinaries.Get("persisted_exit_facts.1"), program);
        RunResult first = Run(cache, program);
        Assert.Equal("built 1 sum 120080000\n", first.StdoutText);

        File.Copy(CaseBinaries.Get("persisted_exit_facts.2"), program, overwrite: true);
        RunResult rebuilt = Run(cache, program);
        Assert.Equal(0, rebuilt.ExitCode);
        Assert.Equal("built 2 sum 120856000\n", rebuilt.StdoutText);
        Assert.True(Statistic(rebuilt, "reused") > 0, rebuilt.StderrText);   // libc's code is the same
    }

    [Fact]
    public void ProgramRebuiltBetweenRuns_SnapshotIsDroppedOnceMostlyDead_NotGrownWithoutBound()
    {
        string cache = Scratch.NewDirectory("xlt-rebuilds");
        string program = Path.Combine(Scratch.NewDirectory("xlt-rebuilds-program"), "rebuilt");
        RunResult Run(int build)
        {
            File.Copy(CaseBinaries.Get($"persisted_rebuilds.{build}"), program, overwrite: true);
            RunResult run = RunWithCache(cache, program);
            Assert.Equal(0, run.ExitCode);
            Assert.StartsWith($"build {build} sum ", run.StdoutText);
            return run;
        }
        long SnapshotBytes() => Directory.GetFiles(cache, "*.xlt").Sum(f => new FileInfo(f).Length);

        RunResult cold = Run(1);
        long compact = SnapshotBytes();
        Assert.True(compact > 0);
        // The other build: its 3000 case blocks are new code, build 1's are dead but still a minority.
        RunResult second = Run(2);
        Assert.True(Statistic(second, "reused") > 0, second.StderrText);
        Assert.True(SnapshotBytes() > compact);
        // Build 1 again: both builds' case blocks are dead now, most of the file: dropped, not grown.
        Run(1);
        Assert.Empty(Directory.GetFiles(cache, "*.xlt"));
        RunResult fresh = Run(1);
        Assert.Equal(0, Statistic(fresh, "fragments loaded"));
        Assert.InRange(SnapshotBytes(), compact * 9 / 10, compact * 11 / 10);
        Assert.True(Statistic(Run(1), "reused") >= Statistic(cold, "fragments built") / 2);
    }

    [Fact]
    public void ProgramThatAborts_KeepsItsTranslations()
    {
        string cache = Scratch.NewDirectory("xlt-abort");
        string program = CaseBinaries.Get("abort_after_output");
        RunResult first = RunWithCache(cache, program);
        Assert.Equal(128 + 6, first.ExitCode);
        Assert.Equal("before abort\n", first.StdoutText);
        Assert.Single(Directory.GetFiles(cache, "*.xlt"));

        RunResult second = RunWithCache(cache, program);
        Assert.Equal(128 + 6, second.ExitCode);
        Assert.Equal("before abort\n", second.StdoutText);
        Assert.True(Statistic(second, "reused") > Statistic(second, "fragments built") * 10, second.StderrText);
    }

    [Fact]
    public void DamagedSnapshot_IsIgnoredAndReplaced()
    {
        string cache = Scratch.NewDirectory("xlt-damaged");
        string program = CaseBinaries.Get("persisted_variant.1");
        RunWithCache(cache, program, "3");
        string file = Assert.Single(Directory.GetFiles(cache, "*.xlt"));
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write)) stream.SetLength(stream.Length / 2);

        RunResult damaged = RunWithCache(cache, program, "4");
        Assert.Equal(0, damaged.ExitCode);
        Assert.Equal("built 1 generated 4\n", damaged.StdoutText);
        Assert.Contains("snapshot not used", damaged.StderrText);
        Assert.Equal(0, Statistic(damaged, "reused"));

        RunResult after = RunWithCache(cache, program, "5");
        Assert.Equal("built 1 generated 5\n", after.StdoutText);
        Assert.True(Statistic(after, "reused") > 0, after.StderrText);
    }

    [Theory]
    [InlineData("uninitialized", "UNINITIALIZED READ", "LINE_UNINIT")]
    [InlineData("heap-overflow", "UNADDRESSABLE ACCESS", "LINE_OVERFLOW")]
    public void Memcheck_ReportsTheSameFromReusedTranslations(string kind, string title, string marker)
    {
        string cache = Scratch.NewDirectory("xlt-memcheck-" + kind);
        string program = CaseBinaries.Get("error_kinds");
        // Through MEMCHECK_OPTIONS, as a test suite would set it for every run.
        var environment = new Dictionary<string, string?> { ["MEMCHECK_OPTIONS"] = "--translation-cache=" + cache };
        string location = $"error_kinds.c:{MemcheckJson.Line("error_kinds.c", marker)}";

        // The first run another kind's: the second reuses what they share and translates the rest.
        MemcheckLauncher.Run(["--stats=yes", "--", program, "use-after-free"], environment: environment);
        RunResult first = MemcheckLauncher.Run(["--stats=yes", "--", program, kind], environment: environment);
        RunResult second = MemcheckLauncher.Run(["--stats=yes", "--", program, kind], environment: environment);
        foreach (RunResult run in new[] { first, second })
        {
            Assert.Equal(3, run.ExitCode);
            Assert.Equal($"{kind} 0\n", run.StdoutText);
            Assert.Contains(title, run.StderrText);
            Assert.Contains(location, run.StderrText);
        }
        Assert.True(Statistic(first, "reused") > 0, first.StderrText);
        Assert.True(Statistic(second, "reused") > Statistic(second, "fragments built") * 10, second.StderrText);
        Assert.Equal(Report(first), Report(second));
    }

    /// <summary>memcheck's report lines without the --stats block (its counters differ by design).</summary>
    private static string Report(RunResult run)
    {
        string[] lines = run.StderrText.Split('\n');
        int first = Array.FindIndex(lines, l => l.StartsWith("memcheck: fragments built"));
        int last = Array.FindIndex(lines, l => l.StartsWith("memcheck: gc pause ms"));
        Assert.True(first >= 0 && last > first, run.StderrText);
        return string.Join('\n', lines[..first].Concat(lines[(last + 1)..]).Where(l => l.StartsWith("memcheck:")));
    }
}
