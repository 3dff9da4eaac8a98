using System.Reflection;
using System.Text.RegularExpressions;
using Checker.Engine.Tools;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// The engine's tool interface, watched through --trace-events: tool_events.c makes every event
/// happen once and prints the addresses it used, and each must reach the tool (under memcheck and
/// under the empty tool) with those addresses.
/// </summary>
public class ToolEventTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("memcheck")]
    public void EveryEvent_ReachesTheToolWithTheProgramsAddresses(string tool)
    {
        var run = MemcheckLauncher.Run(["--tool", tool, "--trace-events", "--", CaseBinaries.Get("tool_events")]);
        string context = $"{run.CommandLine}\nexit {run.ExitCode}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";
        Assert.True(run.ExitCode == 3, context);
        Dictionary<string, List<(string From, string To)>> printed = PrintedRanges(run.StdoutText);
        string events = run.StderrText;
        void Expect(string pattern) => Assert.True(Regex.IsMatch(events, pattern, RegexOptions.Multiline), $"no line matching {pattern}\n{context}");

        (string mapFrom, string mapTo) = printed["mmap"][0];
        (string movedFrom, string movedTo) = printed["mremap"][0];
        Expect($@"event: mmap {mapFrom}-{mapTo} rw- anonymous$");
        Expect($@"event: mremap {mapFrom}-{mapTo} to {movedFrom}-{movedTo}$");
        (string protFrom, string protTo) = printed["mprotect"][0];
        Expect($@"event: mprotect {protFrom}-{protTo} r--$");
        Expect($@"event: munmap {movedFrom}-{movedTo}$");
        foreach ((string from, string to) in printed["brk"]) Expect($@"event: brk {from} to {to}$");

        (string altFrom, string altTo) = printed["altstack"][0];
        Expect($@"event: altstack 1 {altFrom}-{altTo}$");
        // The handler's frame ends at the top of the alternate stack, where the program's local was.
        Expect($@"event: signal-frame 1 signal 10 0x[0-9a-f]+-{altTo}$");
        Assert.Contains("handler frame on the alternate stack: yes", run.StdoutText);
        Expect(@"event: fault-handled signal 11 pc 0x[0-9a-f]+$");

        Expect(@"event: thread-start 1 \(main\) rsp 0x[0-9a-f]+$");
        Expect(@"event: thread-start 2 from 1 stack 0x[0-9a-f]+$");
        Expect(@"event: thread-exit 2$");

        Match load = Regex.Match(events, @"event: module-load (0x[0-9a-f]+-0x[0-9a-f]+) \S*/libdl\.so\.2$", RegexOptions.Multiline);
        Assert.True(load.Success, context);
        Expect($@"event: module-unload {load.Groups[1].Value} \S*/libdl\.so\.2$");
        Expect(@"event: module-load 0x[0-9a-f]+-0x[0-9a-f]+ \S*/tool_events$");

        int child = int.Parse(Regex.Match(run.StdoutText, @"child (\d+) exited 0").Groups[1].Value);
        Expect($@"^memcheck\[{child}\]: event: fork child$");
        Expect($@"^memcheck\[{child}\]: event: process-exit status 0$");
        Expect(@"^memcheck\[\d+\]: event: process-exit status 3$");
        Assert.DoesNotContain($"memcheck[{child}]: event: process-exit status 3", events);
    }

    [Fact]
    public void AnExec_IsAnnouncedToTheTool()
    {
        var run = MemcheckLauncher.Run(["--tool", "none", "--trace-events", "--", CaseBinaries.Get("tool_events"), "exec"]);
        string context = $"{run.CommandLine}\nexit {run.ExitCode}\nstderr:\n{run.StderrText}";
        Assert.True(run.ExitCode == 0, context);
        Assert.Matches(new Regex(@"event: exec /bin/true$", RegexOptions.Multiline), run.StderrText);
        // /bin/true runs under memcheck too (--trace-children), with the same options: its own exit.
        Assert.Matches(new Regex(@"event: module-load 0x[0-9a-f]+-0x[0-9a-f]+ /bin/true$", RegexOptions.Multiline), run.StderrText);
        Assert.DoesNotMatch(new Regex(@"process-exit status 3$", RegexOptions.Multiline), run.StderrText);
    }

    [Fact]
    public void TheTracingTool_ForwardsEveryToolCall()
    {
        var missing = typeof(Tool).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.IsVirtual && m.DeclaringType == typeof(Tool))
            .Where(m => typeof(EventTraceTool).GetMethod(m.Name, BindingFlags.Public | BindingFlags.Instance, m.GetParameters().Select(p => p.ParameterType).ToArray())
                ?.DeclaringType != typeof(EventTraceTool))
            .Select(m => m.Name).ToList();
        Assert.Empty(missing);
    }

    /// <summary>"name 0xfrom 0xto" lines of the program's stdout, by name.</summary>
    private static Dictionary<string, List<(string From, string To)>> PrintedRanges(string stdout) =>
        Regex.Matches(stdout, @"^(\w+) (0x[0-9a-f]+) (0x[0-9a-f]+)$", RegexOptions.Multiline)
            .GroupBy(m => m.Groups[1].Value)
            .ToDictionary(g => g.Key, g => g.Select(m => (m.Groups[2].Value, m.Groups[3].Value)).ToList());
}
