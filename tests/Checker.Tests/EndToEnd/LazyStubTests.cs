using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Access stubs made on a site's first failed check (MemcheckTool/Instrumentation/LazyStubs.cs) and
/// pre-checks' hit paths made on their first hit (MemcheckTool/Definedness/LazyHits.cs): the same
/// reports, at the same lines, as stubs and hit paths made with their fragments
/// (MEMCHECK_EAGER_STUBS=1), from a smaller code cache.
/// </summary>
public class LazyStubTests
{
    private static MemcheckReport Run(string program, bool eager)
    {
        string json = Path.Combine(Scratch.NewDirectory("lazy-stubs"), "report.json");
        var environment = new Dictionary<string, string?> { ["MEMCHECK_EAGER_STUBS"] = eager ? "1" : null };
        RunResult run = MemcheckLauncher.Run(["--stats=yes", "--json", json, "--", program], null, environment, null);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        return new MemcheckReport(run, document.RootElement.Clone());
    }

    private static long Statistic(RunResult run, string name)
    {
        Match m = Regex.Match(run.StderrText, $@"^memcheck: +{Regex.Escape(name)} +(\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no '{name}' line in:\n{run.StderrText}");
        return long.Parse(m.Groups[1].Value);
    }

    /// <summary>Each error's kind, message, count and its frames in the case's own source.</summary>
    private static string[] Summary(MemcheckReport report, string source) =>
        [.. report.Errors.Select(e => $"{e.GetProperty("kind").GetString()}: {e.GetProperty("message").GetString()} x{e.GetProperty("count").GetInt32()} at "
            + string.Join(" < ", e.GetProperty("stack").EnumerateArray()
                .Where(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith(source, StringComparison.Ordinal))
                .Select(f => $"{f.GetProperty("function").GetString()}:{f.GetProperty("line").GetInt32()}")))];

    [Theory]
    [InlineData("uninit_uses", "uninit_uses.c", 6, true)]
    [InlineData("uninit_uses.O2", "uninit_uses.c", 6, true)]
    [InlineData("uninit_copies", "uninit_copies.c", 0, true)]
    [InlineData("uninit_register_rules", "uninit_register_rules.c", 0, true)]
    [InlineData("heap_overflow_underflow", "heap_overflow_underflow.c", 0, false)]
    [InlineData("heap_overflow_underflow.O2", "heap_overflow_underflow.c", 0, false)]
    public void StubsMadeOnFirstUse_ReportAsStubsMadeWithTheirFragments(string binary, string source, int expectedErrors, bool undefinedValuesPass)
    {
        string program = CaseBinaries.Get(binary);
        MemcheckReport eager = Run(program, eager: true);
        MemcheckReport lazy = Run(program, eager: false);

        string[] expected = Summary(eager, source);
        if (expectedErrors > 0) Assert.Equal(expectedErrors, expected.Length);
        else Assert.NotEmpty(expected);
        Assert.All(expected, e => Assert.DoesNotMatch(" at $", e));   // each at a line of the case
        Assert.Equal(expected, Summary(lazy, source));
        Assert.Equal(eager.Run.StdoutText, lazy.Run.StdoutText);
        Assert.Equal(eager.Run.ExitCode, lazy.Run.ExitCode);

        Assert.Equal(0, Statistic(eager.Run, "stubs made on first run"));
        long made = Statistic(lazy.Run, "stubs made on first run");
        Assert.True(made > 0, lazy.Run.StderrText);
        // Undefined values copied and combined: pre-checks hit, and their hit paths are made then.
        Assert.Equal(0, Statistic(eager.Run, "hit paths made on first run"));
        if (undefinedValuesPass) Assert.True(Statistic(lazy.Run, "hit paths made on first run") > 0, lazy.Run.StderrText);
        // Most sites never fail their inline check: far fewer stubs are made than sites have.
        Assert.True(Statistic(lazy.Run, "code cache bytes") < Statistic(eager.Run, "code cache bytes"), $"{eager.Run.StderrText}\n{lazy.Run.StderrText}");
    }
}
