using System.Text.RegularExpressions;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// memcheck's own descriptors sit above the program's range, as Valgrind's do: the program's first
/// open() returns 3 as natively, /proc/self/fd lists what it lists natively (memcheck's own, at or
/// above the program's hard limit, are left out of its listing: a program closing every descriptor
/// it lists, as crashpad does, warned at each), the program's RLIMIT_NOFILE keeps it below them (and
/// is enforced by the kernel as natively), and close_range(3, ~0U) leaves memcheck's report working.
/// </summary>
public class ToolDescriptorTests
{
    [Fact]
    public void TheProgramSeesItsDescriptorsAndLimitsAsNatively()
    {
        string program = CaseBinaries.Get("descriptors");
        RunResult native = ProcessRunner.Run(program, []);
        RunResult memcheck = MemcheckLauncher.Run(["--", program]);
        string context = $"{memcheck.CommandLine}\nstdout:\n{memcheck.StdoutText}\nstderr:\n{memcheck.StderrText}";

        Assert.Equal(0, native.ExitCode);
        Assert.True(memcheck.ExitCode == 0, context);
        Assert.Equal(
            "first open: 3\n" +
            "dup at the soft limit: Invalid argument\n" +
            "with a limit of 40: last fd 39, then Too many open files\n" +
            "close_range: 0\n",
            native.StdoutText);
        Assert.Equal(native.StdoutText, memcheck.StdoutText);

        string[] nativeLines = native.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] guestLines = System.Text.Encoding.UTF8.GetString(NativeComparison.WithoutMemcheckLines(memcheck.Stderr))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The same descriptors below the hard limit, and none listed above it (memcheck's own are there, unlisted).
        Assert.Equal(nativeLines.Where(l => l.StartsWith("fd ", StringComparison.Ordinal)), guestLines.Where(l => l.StartsWith("fd ", StringComparison.Ordinal)));
        Assert.Contains("above the hard limit: 0", nativeLines);
        Assert.Contains("above the hard limit: 0", guestLines);

        (ulong Soft, ulong Hard) Limits(string[] lines)
        {
            string[] parts = lines.Single(l => l.StartsWith("limits ", StringComparison.Ordinal)).Split(' ');
            return (ulong.Parse(parts[1]), ulong.Parse(parts[2]));
        }
        var nativeLimits = Limits(nativeLines);
        var guestLimits = Limits(guestLines);
        Assert.True(guestLimits.Soft <= nativeLimits.Soft && guestLimits.Hard < nativeLimits.Hard && guestLimits.Soft <= guestLimits.Hard, context);

        // After close_range(3, ~0U) memcheck still reports, with the line.
        int line = MemcheckJson.Line("descriptors.c", "LINE_AFTER_CLOSE_RANGE");
        Assert.Contains($"descriptors.c:{line}]", memcheck.StderrText);
        Assert.Contains("ERRORS FOUND:", memcheck.StderrText);
    }

    [Fact]
    public void LsOfProcSelfFdListsTheNativeDescriptorsOnly()
    {
        RunResult native = ProcessRunner.Run("/bin/ls", ["-l", "/proc/self/fd"]);
        RunResult memcheck = MemcheckLauncher.Run(["--", "/bin/ls", "-l", "/proc/self/fd"]);
        RunResult limit = MemcheckLauncher.Run(["--tool", "none", "--", "/bin/sh", "-c", "ulimit -Hn"]);
        string context = $"{memcheck.CommandLine}\nstdout:\n{memcheck.StdoutText}\nstderr:\n{memcheck.StderrText}";
        Assert.True(native.ExitCode == 0 && memcheck.ExitCode == 0 && limit.ExitCode == 0, context);
        int programLimit = int.Parse(limit.StdoutText.Trim());

        static int[] Descriptors(string listing) =>
            [.. Regex.Matches(listing, @" (\d+) -> ").Select(m => int.Parse(m.Groups[1].Value)).Order()];
        int[] nativeFds = Descriptors(native.StdoutText), memcheckFds = Descriptors(memcheck.StdoutText);

        Assert.Contains(3, nativeFds); // ls's own directory descriptor, natively and under memcheck
        Assert.True(nativeFds.SequenceEqual(memcheckFds), $"native {string.Join(' ', nativeFds)}, memcheck {string.Join(' ', memcheckFds)}\n{context}");
        Assert.DoesNotContain(memcheckFds, fd => fd >= programLimit);
    }
}
