using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Heap;

/// <summary>
/// Real programs under full checking (the default tool and options) keep their output and exit
/// status and report no error: the access checks, the stack tracking, the string replacements and
/// the definedness tracking (--check-uninitialized, on by default: no UNINITIALIZED READ either)
/// give no false positives on them. perl and sort leak at exit for real (valgrind
/// --leak-check=full reports the same bytes: perl skips destruction, sort keeps a buffer); as
/// under Valgrind's default --leak-check=summary, those are counted under ERRORS IGNORED, not
/// reported as errors, and the test checks that the scan did find them.
/// </summary>
public class SystemProgramCheckingTests
{
    private static readonly Dictionary<string, string?> _cLocale = new() { ["LC_ALL"] = "C", ["TZ"] = "UTC" };

    public static TheoryData<string, string, bool> Programs => new()
    {
        { "/usr/bin/ls", "-la|/usr/share", false },
        { "/usr/bin/sort", "INPUT", true },
        { "/usr/bin/gzip", "-c|INPUT", false },
        { "/usr/bin/xz", "-c|INPUT", false },
        { "/usr/bin/python3", "-c|import json,re,collections; d={str(i):[i]*3 for i in range(5000)}; print(len(json.dumps(d)), len(re.findall(r'[0-9]+', json.dumps(d))))", false },
        { "/usr/bin/sqlite3", ":memory:|create table t(a,b); insert into t select value, hex(value) from generate_series(1,3000); create index i on t(b); select count(*), sum(a) from t where b like '1%';", false },
        { "/usr/bin/perl", "-e|my %h; $h{$_} = $_ * 2 for 1..5000; my @k = sort { $a <=> $b } keys %h; print scalar(@k), \" $k[-1]\\n\"", true },
        { "/usr/bin/awk", "{ s += length($0) } END { print NR, s }|INPUT", false },
        { "/usr/bin/find", "/usr/include/linux|-name|*.h|-size|+8k", false },
        { "/usr/bin/tar", "-cf|-|-C|/usr/include|linux/netfilter", false },
    };

    [Theory]
    [MemberData(nameof(Programs))]
    public void RealProgram_ReportsNoAccessOrHeapArgumentErrors(string program, string arguments, bool leaksAtExit)
    {
        string dir = Scratch.NewDirectory("system-checking");
        string input = Path.Combine(dir, "lines.txt");
        File.WriteAllBytes(input, TestData.RandomLines(seed: 1234, targetBytes: 1 << 18));
        string[] args = arguments.Split('|').Select(a => a == "INPUT" ? input : a).ToArray();
        string json = Path.Combine(dir, "report.json");

        RunResult native = ProcessRunner.Run(program, args, null, _cLocale);
        RunResult run = MemcheckLauncher.Run(["--json", json, "--", program, .. args], null, _cLocale);
        string context = $"{run.CommandLine}\nstderr:\n{run.StderrText}";

        Assert.True(native.Stdout.AsSpan().SequenceEqual(run.Stdout), $"stdout differs from native\n{context}");
        Assert.Equal(native.ExitCode, run.ExitCode);
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        string[] kinds = document.RootElement.GetProperty("errors").EnumerateArray()
            .Select(e => e.GetProperty("kind").GetString()!).ToArray();
        Assert.True(kinds.Length == 0, $"unexpected errors: {string.Join(", ", kinds)}\n{context}");
        bool ignoredLeaks = document.RootElement.GetProperty("summary").TryGetProperty("ignored", out JsonElement ignored)
            && ignored.TryGetProperty("leak", out JsonElement leak) && leak.GetProperty("bytes").GetInt64() > 0;
        Assert.True(ignoredLeaks == leaksAtExit, $"leaks under summary.ignored: {ignoredLeaks}, expected {leaksAtExit}\n{context}");
    }
}
