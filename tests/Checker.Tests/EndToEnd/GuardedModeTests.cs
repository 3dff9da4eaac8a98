using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// The plain mode without general-register guards (MemcheckTool/Definedness/DefinednessMode.cs):
/// a copy through a general register that meets undefined bytes leaves for the guarded mode in the
/// cache (no switch through the tool per copy), the thread comes back, and an undefined value
/// used afterwards is still reported at its line.
/// </summary>
public class GuardedModeTests
{
    [Fact]
    public void CopiesThroughAGeneralRegister_LeaveForTheGuardedMode_AndUsesAreStillReported()
    {
        string program = CaseBinaries.Get("guarded_mode_copies");
        string json = Path.Combine(Scratch.NewDirectory("guarded-mode"), "report.json");
        RunResult run = MemcheckLauncher.Run(["--stats=yes", "--json", json, "--", program], null, null, null);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("sum 10941600\nnot positive\n", run.StdoutText);
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        JsonElement[] errors = [.. document.RootElement.GetProperty("errors").EnumerateArray()];
        JsonElement error = Assert.Single(errors);
        Assert.Equal("uninitialized", error.GetProperty("kind").GetString());
        JsonElement top = error.GetProperty("stack").EnumerateArray().First();
        Assert.EndsWith("guarded_mode_copies.c", top.GetProperty("file").GetString());
        Assert.Equal(35, top.GetProperty("line").GetInt32());

        // 100,000 copies of undefined bytes: none goes through the tool's switch.
        Assert.True(Statistic(run, "undefined-read switches") < 100, run.StderrText);
        Match modes = Regex.Match(run.StderrText, @"^memcheck: +fragments plain/propagating/guarded +(\d+) / (\d+) / (\d+)$", RegexOptions.Multiline);
        Assert.True(modes.Success, run.StderrText);
        Assert.True(long.Parse(modes.Groups[3].Value) > 0, "no fragment of the guarded mode: " + modes.Value);
    }

    [Fact]
    public void APropagatedBlockThatLeavesNothingUndefined_GoesOnInThePlainMode()
    {
        // Twenty sites compare an undefined int, each run three times: after the compare's report
        // and the call after it, nothing is undefined, and the code after each site runs plain.
        // When a propagating block's entry always left for the guarded mode, its linked exits took
        // each site's continuation into guarded copies (41 guarded fragments here, 1 now).
        string program = CaseBinaries.Get("plain_after_propagation");
        string json = Path.Combine(Scratch.NewDirectory("plain-after-propagation"), "report.json");
        RunResult run = MemcheckLauncher.Run(["--stats=yes", "--json", json, "--", program], null, null, null);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("v 1360\n", run.StdoutText);
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        JsonElement[] errors = [.. document.RootElement.GetProperty("errors").EnumerateArray()];
        Assert.Equal(20, errors.Length);
        foreach (JsonElement error in errors)
        {
            Assert.Equal("uninitialized", error.GetProperty("kind").GetString());
            JsonElement top = error.GetProperty("stack").EnumerateArray().First();
            Assert.EndsWith("plain_after_propagation.c", top.GetProperty("file").GetString());
            Assert.Contains(top.GetProperty("line").GetInt32(), new[] { 23, 24 });   // the SITE lines
        }
        Match modes = Regex.Match(run.StderrText, @"^memcheck: +fragments plain/propagating/guarded +(\d+) / (\d+) / (\d+)$", RegexOptions.Multiline);
        Assert.True(modes.Success, run.StderrText);
        Assert.True(long.Parse(modes.Groups[2].Value) >= 20, "the compares were not propagated: " + modes.Value);
        Assert.True(long.Parse(modes.Groups[3].Value) < 10, "the code after the sites ran guarded: " + modes.Value);
    }

    private static long Statistic(RunResult run, string name)
    {
        Match m = Regex.Match(run.StderrText, $@"^memcheck: +{Regex.Escape(name)} +(\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no '{name}' line in:\n{run.StderrText}");
        return long.Parse(m.Groups[1].Value);
    }
}
