using System.Text.RegularExpressions;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// memcheck's report where users look first: a regular file the program writes to as well
/// (<c>memcheck -- ./app &gt; log 2&gt;&amp;1</c>). Every line of the program and of every report
/// (a forked child's included) must be there, whole, in the order they were written.
/// </summary>
public class ReportOutputTests
{
    private static readonly Regex ReportLine = new(@"^memcheck(\[\d+\])?:( |$)");

    /// <summary>Runs memcheck through a shell with stdout and stderr redirected to one regular file; returns its lines.</summary>
    internal static (RunResult Run, string[] Lines) RunToFile(string program, params string[] options)
    {
        string log = Path.Combine(Scratch.NewDirectory("report-file"), "all.log");
        var run = ProcessRunner.Run("/bin/sh",
            ["-c", "exec \"$0\" \"$@\" > \"$LOG\" 2>&1", MemcheckLauncher.Executable, .. options, "--", program],
            environment: new Dictionary<string, string?> { ["LOG"] = log });
        return (run, File.ReadAllLines(log));
    }

    [Fact]
    public void ReportAndProgramOutputInOneRegularFile_AcrossAFork_NothingLostOrGarbled()
    {
        const string source = "report_to_file.c";
        var (run, lines) = RunToFile(CaseBinaries.Get("report_to_file"));
        string context = $"{run.CommandLine}\n{string.Join('\n', lines)}";
        Assert.True(run.ExitCode == 0, context);

        // Every line is the program's or a whole report line: nothing overwritten or torn.
        foreach (string line in lines)
            Assert.True(ReportLine.IsMatch(line) || Regex.IsMatch(line, @"^(program|child|parent): "), $"garbled line '{line}'\n{context}");

        string Frame(string marker) => $"#0 main [{Path.Combine(RepoPaths.Cases, source)}:{MemcheckJson.Line(source, marker)}]";
        string[] expectedOrder =
        [
            "program: line 1",
            "Error #1: UNADDRESSABLE ACCESS beyond heap bounds: writing 1 byte(s)",
            Frame("LINE_PARENT_OVERFLOW"),
            "program: line 2",
            "program: stderr line",
            "child: line",
            Frame("LINE_CHILD_OVERFLOW"),
            "child: exiting",
            "ERRORS FOUND:",           // the child's summary
            "parent: child exited 3",
            Frame("LINE_PARENT_UNDERFLOW"),
            "parent: done",
            "ERRORS FOUND:",           // the parent's
        ];
        int at = -1;
        foreach (string expected in expectedOrder)
        {
            int next = Array.FindIndex(lines, at + 1, l => l.Contains(expected, StringComparison.Ordinal));
            Assert.True(next > at, $"'{expected}' not found after line {at + 1}\n{context}");
            at = next;
        }
    }
}
