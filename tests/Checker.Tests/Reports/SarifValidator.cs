using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Reports;

/// <summary>One finding of Microsoft's SARIF validator: its rule (JSON1002, SARIF1004, GH1005...), level and text.</summary>
/// <param name="Path">Where in the file: the JSON path (<c>runs[0].results[2].locations[0]</c>).</param>
internal sealed record SarifFinding(string RuleId, string Level, string Path, string Text);

/// <summary>
/// Microsoft's SARIF validator, <c>sarif-multitool validate</c> (npm package
/// @microsoft/sarif-multitool 5.7.0), which .ci/run installs under <see cref="Prefix"/>. It checks
/// the file against the SARIF 2.1.0 schema and the SARIF rules, and here also against GitHub code
/// scanning's ingestion rules (<c>--rule-kind "Sarif;Gh"</c>). It exits 0 whatever it finds, so its
/// own SARIF output (<c>-o</c>) is read for the findings and their levels.
/// </summary>
internal static class SarifValidator
{
    /// <summary>Where .ci/run installs the npm package (npm install --prefix).</summary>
    public const string Prefix = "/opt/sarif-multitool";

    /// <summary>The rule kinds checked: the SARIF specification's and GitHub code scanning's.</summary>
    public const string RuleKinds = "Sarif;Gh";

    /// <summary>The validator's native executable (npm's bin.js wrapper runs it through a shell, which splits "Sarif;Gh").</summary>
    public static string Executable => Path.Combine(Prefix, "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool");

    /// <summary>Runs the validator on <paramref name="sarif"/>; fails the test (never skips it) when the validator is missing or fails to run.</summary>
    public static IReadOnlyList<SarifFinding> Validate(string sarif)
    {
        Assert.True(File.Exists(Executable),
            $"Microsoft's SARIF validator is not installed ({Executable} is missing): .ci/run installs it " +
            $"(npm install --prefix {Prefix} @microsoft/sarif-multitool@5.7.0, then chmod u+x on Sarif.Multitool).");
        string output = Path.Combine(Scratch.NewDirectory("sarif-validation"), "validation.sarif");
        RunResult run = ProcessRunner.Run(Executable,
            ["validate", sarif, "--output", output, "--log", "ForceOverwrite", "--rule-kind", RuleKinds, "--level", "Error;Warning;Note"],
            timeout: TimeSpan.FromSeconds(300));
        Assert.True(run.ExitCode == 0 && File.Exists(output),
            $"the SARIF validator failed (exit {run.ExitCode})\n{run.CommandLine}\n{run.StdoutText}{run.StderrText}");
        using JsonDocument log = JsonDocument.Parse(File.ReadAllBytes(output));
        JsonElement validation = log.RootElement.GetProperty("runs")[0];
        Assert.True(validation.GetProperty("invocations")[0].GetProperty("executionSuccessful").GetBoolean(),
            $"the SARIF validator did not complete\n{run.StdoutText}");
        // The log gives each finding's rule, level, JSON path and message arguments (its texts are the validator's templates).
        return validation.GetProperty("results").EnumerateArray().Select(result =>
        {
            string rule = result.GetProperty("ruleId").GetString()!;
            string level = result.TryGetProperty("level", out JsonElement l) ? l.GetString()! : "warning";
            string[] arguments = result.GetProperty("message").TryGetProperty("arguments", out JsonElement a)
                ? a.EnumerateArray().Select(x => x.GetString() ?? "").ToArray()
                : [];
            // The first argument of every message is the JSON path.
            string path = arguments.FirstOrDefault() ?? "";
            return new SarifFinding(rule, level, path, $"{level} {rule}: {string.Join(", ", arguments)}");
        }).ToArray();
    }

    /// <summary>
    /// Validates <paramref name="sarif"/> and asserts no error and no warning but SARIF2005 (the
    /// tool has no informationUri: memcheck has no public page to point to). Notes (suggestions
    /// such as message ids instead of texts) are allowed. SARIF2005 must be there: the validator
    /// reports nothing at all, and exits 0, for a file it fails to load (a URI such as
    /// <c>file://../x.c</c> is enough), so its absence means the file was not checked. Returns the findings.
    /// </summary>
    /// <param name="allowedWarnings">Further warnings the caller expects (by rule id).</param>
    public static IReadOnlyList<SarifFinding> AssertValid(string sarif, params string[] allowedWarnings)
    {
        IReadOnlyList<SarifFinding> findings = Validate(sarif);
        Assert.True(findings.Any(f => f.RuleId == "SARIF2005"),
            $"the SARIF validator reported nothing about the tool's informationUri: it did not load {sarif} " +
            $"(it skips a file it cannot read without a word); findings: {string.Join('\n', findings.Select(f => f.Text))}");
        SarifFinding[] bad = findings.Where(f => f.Level == "error" || (f.Level == "warning" && f.RuleId != "SARIF2005" && !allowedWarnings.Contains(f.RuleId))).ToArray();
        Assert.True(bad.Length == 0,
            $"the SARIF validator found {bad.Length} error(s) or warning(s) in {sarif}:\n{string.Join('\n', bad.Select(f => f.Text))}");
        return findings;
    }
}
