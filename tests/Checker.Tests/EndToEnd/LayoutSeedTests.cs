using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// MEMCHECK_LAYOUT_SEED (Engine/Translation/BlockTranslator.cs, a developer's knob behind
/// `bench/tools/ab-pairs.sh -s`): fragments placed further apart by a seed's padding, and nothing
/// else changed: the same reports at the same lines, the same output and status.
/// </summary>
public class LayoutSeedTests
{
    private static (RunResult Run, string[] Errors) Run(string program, string source, string? seed)
    {
        string json = Path.Combine(Scratch.NewDirectory("layout-seed"), "report.json");
        var environment = new Dictionary<string, string?> { ["MEMCHECK_LAYOUT_SEED"] = seed };
        RunResult run = MemcheckLauncher.Run(["--stats=yes", "--json", json, "--", program], null, environment, null);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        string[] errors = [.. document.RootElement.GetProperty("errors").EnumerateArray().Select(e =>
            $"{e.GetProperty("kind").GetString()} x{e.GetProperty("count").GetInt32()} at "
            + string.Join(" < ", e.GetProperty("stack").EnumerateArray()
                .Where(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith(source, StringComparison.Ordinal))
                .Select(f => $"{f.GetProperty("function").GetString()}:{f.GetProperty("line").GetInt32()}")))];
        return (run, errors);
    }

    private static long CodeCacheBytes(RunResult run)
    {
        Match m = Regex.Match(run.StderrText, @"^memcheck: +code cache bytes +(\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, run.StderrText);
        return long.Parse(m.Groups[1].Value);
    }

    [Theory]
    [InlineData("uninit_uses", "uninit_uses.c")]
    [InlineData("heap_overflow_underflow.O2", "heap_overflow_underflow.c")]
    public void ASeededLayout_ReportsTheSameAtTheSameLines(string binary, string source)
    {
        string program = CaseBinaries.Get(binary);
        var plain = Run(program, source, seed: null);
        var seeded = Run(program, source, seed: "7");

        Assert.NotEmpty(plain.Errors);
        Assert.All(plain.Errors, e => Assert.DoesNotMatch(" at $", e));   // each at a line of the case
        Assert.Equal(plain.Errors, seeded.Errors);
        Assert.Equal(plain.Run.StdoutText, seeded.Run.StdoutText);
        Assert.Equal(plain.Run.ExitCode, seeded.Run.ExitCode);
        // The padding between fragments (0 to 56 bytes each) is the only difference in the cache.
        Assert.True(CodeCacheBytes(seeded.Run) > CodeCacheBytes(plain.Run), $"{plain.Run.StderrText}\n{seeded.Run.StderrText}");
    }
}
