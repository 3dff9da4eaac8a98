using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// The propagating mode's register-only rules in generated code (ShadowRegisterRoutine: and/or/xor/
/// add/sub/cmp/test with an immediate or a register, register moves, zero idioms) against the C# propagator on the
/// same program: bitfield bytes made partly defined by and/or are branched on by their defined bits
/// without a report and by their undefined ones with one; and/test with a defined 1 bit and cmp
/// with a defined differing bit define ZF; add's carry smears; moves carry the bits; a test of a
/// bitfield's defined bit in the plain mode is propagated at the switch (DefinednessChecks.
/// TryPropagateAtSwitch) and one of its undefined bits still switches and is reported. The same
/// errors, lines and counts whichever does the work (MEMCHECK_REGISTER_RULES=c#: all in C#).
/// </summary>
public class UninitializedRegisterRulesTests
{
    private const string Source = "uninit_register_rules.c";

    [Theory]
    [InlineData(null)]
    [InlineData("c#")]
    public void BitExactRulesReportOnlyUndefinedBits(string? rules)
    {
        string json = Path.Combine(Scratch.NewDirectory("register-rules"), "report.json");
        var environment = new Dictionary<string, string?> { ["MEMCHECK_REGISTER_RULES"] = rules };
        var run = MemcheckLauncher.Run(["--tool", "memcheck", "--stats=yes", "--json", json, "--", CaseBinaries.Get("uninit_register_rules")], null, environment);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        var report = new MemcheckReport(run, document.RootElement.Clone());
        string context = report.Context;
        Assert.Equal("done\n", run.StdoutText);
        Assert.Equal(0, run.ExitCode);
        (string Function, string Marker, string Words)[] expected =
        [
            ("and_or_bitfield", "LINE_AND_OR_HIGH", "a conditional jump depends on undefined flags"),
            ("test_and_cmp", "LINE_CMP_UNDEFINED", "a conditional jump depends on undefined flags"),
            ("add_smears", "LINE_ADD", "a conditional jump depends on undefined flags"),
            ("register_moves", "LINE_MOVED", "a conditional jump depends on undefined flags"),
            ("register_pairs", "LINE_PAIRS", "a conditional jump depends on undefined flags"),
            ("branch_free_conditions", "LINE_CMOV", "a conditional jump depends on undefined flags"),
            ("branch_free_conditions", "LINE_ADC", "a conditional jump depends on undefined flags"),
            ("index_low_bits", "LINE_BT", "a conditional jump depends on undefined flags"),
            ("bitfield_tests", "LINE_NEVER", "a conditional jump depends on undefined flags"),
        ];
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == expected.Length,
            $"expected {expected.Length} errors, got {errors.Length}: {string.Join(" | ", errors.Select(e => e.GetProperty("message").GetString()))}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (function, marker, words) = expected[i];
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Contains(words, errors[i].GetProperty("message").GetString());
            // Every iteration uses a fresh undefined byte: every one is counted.
            Assert.True(errors[i].GetProperty("count").GetInt32() == 1000, $"error {i + 1}: count {errors[i].GetProperty("count").GetInt32()}\n{context}");
            AssertFrame(errors[i].GetProperty("stack")[0], function, Source, Line(Source, marker), context);
        }
        // The bitfield's defined bit tested 1000 times: propagated at the switch, no detour through the propagating mode.
        var atSwitch = System.Text.RegularExpressions.Regex.Match(run.StderrText, @"propagated at a switch +(\d+)");
        Assert.True(atSwitch.Success && int.Parse(atSwitch.Groups[1].Value) >= 900, $"expected the defined bit's tests propagated at the switch\n{context}");
    }
}
