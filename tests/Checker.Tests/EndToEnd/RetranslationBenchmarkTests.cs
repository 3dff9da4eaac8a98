using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// MEMCHECK_RETRANSLATE (a developer's measurement, Engine/Dispatch/RetranslationBenchmark.cs):
/// every fragment flushed and translated again mid-run, timed per round; the program and its
/// report must come out exactly as without it.
/// </summary>
public class RetranslationBenchmarkTests
{
    private static MemcheckReport Run(string program, IReadOnlyDictionary<string, string?>? environment)
    {
        string json = Path.Combine(Scratch.NewDirectory("retranslate"), "report.json");
        RunResult run = MemcheckLauncher.Run(["--json", json, "--", program], null, environment, null);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        return new MemcheckReport(run, document.RootElement.Clone());
    }

    private static string[] Summary(MemcheckReport report) =>
        [.. report.Errors.Select(e => $"{e.GetProperty("kind").GetString()}: {e.GetProperty("message").GetString()} x{e.GetProperty("count").GetInt32()} at "
            + string.Join(" < ", e.GetProperty("stack").EnumerateArray()
                .Where(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith("uninit_uses.c", StringComparison.Ordinal))
                .Select(f => $"{f.GetProperty("function").GetString()}:{f.GetProperty("line").GetInt32()}")))];

    [Fact]
    public void EveryFragmentTranslatedAgainMidRun_TimesEachRound_AndChangesNothing()
    {
        string program = CaseBinaries.Get("uninit_uses");
        var plain = Run(program, null);
        var again = Run(program, new Dictionary<string, string?> { ["MEMCHECK_RETRANSLATE"] = "1000,2" });

        MatchCollection rounds = Regex.Matches(again.Run.StderrText,
            @"^memcheck-retranslate: round (\d): (\d+) fragments, [\d.]+ us a fragment \(flush [\d.]+ us\), \d+ managed bytes and \d+ code bytes a fragment$",
            RegexOptions.Multiline);
        Assert.True(rounds.Count == 2, again.Run.StderrText);
        Assert.True(int.Parse(rounds[0].Groups[2].Value) >= 900, again.Run.StderrText);
        Assert.DoesNotContain("memcheck-retranslate", plain.Run.StderrText);

        Assert.Equal("done\n", again.Run.StdoutText);
        Assert.Equal(plain.Run.StdoutText, again.Run.StdoutText);
        Assert.Equal(plain.Run.ExitCode, again.Run.ExitCode);
        string[] expected = Summary(plain);
        Assert.Equal(6, expected.Length);
        Assert.Equal(expected, Summary(again));
    }
}
