using System.Text.RegularExpressions;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Translations kept across runs (MEMCHECK_TRANSLATION_CACHE, --tool none for now): a second run
/// takes the first run's fragments into use, and never one whose guest code has changed since.
/// </summary>
public class PersistedTranslationTests
{
    private static RunResult RunWithCache(string cacheDirectory, string program, params string[] arguments) =>
        MemcheckLauncher.RunToolNone(program, arguments,
            environment: new Dictionary<string, string?> { ["MEMCHECK_TRANSLATION_CACHE"] = cacheDirectory },
            extraOptions: ["--stats=yes"]);

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
        Assert.True(loaded >= Statistic(first, "fragments built") - 16, second.StderrText);
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

    [Fact]
    public void MemcheckTool_KeepsNoTranslationsYet()
    {
        string cache = Scratch.NewDirectory("xlt-memcheck");
        RunResult run = MemcheckLauncher.Run(["--", CaseBinaries.Get("persisted_variant.1"), "2"],
            environment: new Dictionary<string, string?> { ["MEMCHECK_TRANSLATION_CACHE"] = cache });
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("built 1 generated 2\n", run.StdoutText);
        Assert.Empty(Directory.GetFiles(cache));
    }
}
