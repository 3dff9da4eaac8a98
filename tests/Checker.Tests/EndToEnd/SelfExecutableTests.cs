using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// /proc/self/exe under memcheck is the program's own executable, resolved as the kernel resolves
/// it: readlink of every form of the link, open and stat of it, and execve of it re-running the
/// program. The program is started through a symlink in another directory, so the resolved path
/// differs from the one memcheck was given (the difference that made `$ORIGIN` lookups fail).
/// </summary>
public class SelfExecutableTests
{
    private static (string Link, string Resolved) ThroughSymlink()
    {
        string program = CaseBinaries.Get("self_exe");
        string link = Path.Combine(Scratch.NewDirectory("self-exe"), "linked-self-exe");
        File.CreateSymbolicLink(link, program);
        string resolved = new FileInfo(program).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(program);
        return (link, resolved);
    }

    [Fact]
    public void ReadlinkGivesTheResolvedExecutableForEveryFormOfTheLink()
    {
        var (link, resolved) = ThroughSymlink();
        var (native, memcheck) = NativeComparison.AssertSameBehaviour(link, ["links"]);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal(
            $"/proc/self/exe -> {resolved}\n" +
            $"/proc/PID/exe -> {resolved}\n" +
            $"/proc/thread-self/exe -> {resolved}\n" +
            $"/proc/self/task/TID/exe -> {resolved}\n" +
            $"truncated readlink: 4 bytes \"{resolved[..4]}\"\n",
            memcheck.StdoutText);
    }

    [Fact]
    public void OpeningProcSelfExeReadsTheProgramsOwnElfFile()
    {
        var (link, resolved) = ThroughSymlink();
        var (native, memcheck) = NativeComparison.AssertSameBehaviour(link, ["open"]);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal($"magic ELF\nsize {new FileInfo(resolved).Length}\nstat same file: yes\n", memcheck.StdoutText);
    }

    [Fact]
    public void ExecveOfProcSelfExeRunsTheProgramAgain()
    {
        var (link, resolved) = ThroughSymlink();
        var (native, _) = NativeComparison.AssertSameBehaviour(link, ["reexec"]);
        Assert.Equal(0, native.ExitCode);
        Assert.StartsWith($"about to re-execute\nrunning again as {link}\n/proc/self/exe -> {resolved}\n", native.StdoutText);

        // Checked, the process's report ends at the exec, naming what runs next.
        RunResult checkedRun = MemcheckLauncher.Run(["--", link, "reexec"]);
        Assert.True(checkedRun.ExitCode == 0 && checkedRun.StdoutText == native.StdoutText, $"{checkedRun.CommandLine}\n{checkedRun.StdoutText}\n{checkedRun.StderrText}");
        Assert.Contains($"the program execs {resolved}: its report ends here", checkedRun.StderrText);
    }
}
