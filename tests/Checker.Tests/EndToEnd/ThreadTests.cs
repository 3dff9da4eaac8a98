using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Threads are not supported yet: a guest that creates one must make memcheck stop cleanly with
/// exit status 125 and one "memcheck: " line, never a .NET stack trace.
/// </summary>
public class ThreadTests
{
    [Fact]
    public void PthreadCreate_Exits125WithOneLineMentioningThreads()
    {
        var program = CaseBinaries.Get("pthread_create");
        var native = ProcessRunner.Run(program, []);
        Assert.True(native.ExitCode == 0 && native.StdoutText == "thread set value=42\n",
            $"the native run should work: exit {native.ExitCode}, stdout {native.StdoutText}, stderr {native.StderrText}");

        var result = MemcheckLauncher.RunToolNone(program, []);

        var stderr = result.StderrText;
        var context = $"{result.CommandLine}\nexit {result.ExitCode}\nstdout:\n{result.StdoutText}\nstderr:\n{stderr}";
        Assert.True(result.ExitCode == 125, $"expected exit 125: {context}");
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.True(stderr.Length > 0 && lines.Length == 1, $"expected exactly one stderr line: {context}");
        Assert.True(lines[0].StartsWith(MemcheckLauncher.MessagePrefix, StringComparison.Ordinal),
            $"the line should start '{MemcheckLauncher.MessagePrefix}': {context}");
        Assert.True(lines[0].Contains("thread", StringComparison.OrdinalIgnoreCase),
            $"the message should mention threads: {context}");
    }
}
