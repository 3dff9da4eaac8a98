using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// The suppression file memcheck ships (src/Memcheck/default.supp) silences system-library noise a
/// Valgrind user never sees, and only that: a program that starts and joins a thread has no
/// POSSIBLE LEAK for the thread's DTV (ld.so's calloc, held in glibc's stack cache), which
/// --default-suppressions=no shows; a real leak of the program's is still reported.
/// </summary>
public class DefaultSuppressionTests
{
    [Fact]
    public void AJoinedThreadsDtvIsSuppressedByDefault()
    {
        string program = CaseBinaries.Get("pthread_create");
        RunResult run = MemcheckLauncher.Run(["--leak-check=full", "--error-exitcode=9", "--", program]);
        Assert.True(run.ExitCode == 0, run.StderrText);
        Assert.Equal("thread set value=42\n", run.StdoutText);
        Assert.DoesNotContain("POSSIBLE LEAK", run.StderrText);
        Assert.Contains("SUPPRESSED: 1 error(s) by 1 suppression(s):", run.StderrText);
        Assert.Contains("glibc-thread-dtv-in-stack-cache", run.StderrText);

        RunResult without = MemcheckLauncher.Run(["--leak-check=full", "--error-exitcode=9", "--default-suppressions=no", "--", program]);
        Assert.True(without.ExitCode == 9, without.StderrText);
        Assert.Contains("POSSIBLE LEAK: 272 bytes in 1 block", without.StderrText);
        Assert.Contains("allocate_dtv", without.StderrText);
    }

    [Fact]
    public void DlopensAlignedFindObjectSegmentIsSuppressedByDefault()
    {
        string program = CaseBinaries.Get("dlopen_once");
        RunResult run = MemcheckLauncher.Run(["--leak-check=full", "--error-exitcode=9", "--", program]);
        Assert.True(run.ExitCode == 0, run.StderrText);
        Assert.Equal("dlopen ok\n", run.StdoutText);
        Assert.DoesNotContain("POSSIBLE LEAK", run.StderrText);
        Assert.Contains("glibc-dl-find-object-aligned-segment", run.StderrText);

        RunResult without = MemcheckLauncher.Run(["--leak-check=full", "--error-exitcode=9", "--default-suppressions=no", "--", program]);
        Assert.True(without.ExitCode == 9, without.StderrText);
        Assert.Contains("POSSIBLE LEAK", without.StderrText);
        Assert.Contains("_dl_find_object_update", without.StderrText);

        // The same entry given as a user's file, matched on the full (DWARF, inlined) stack.
        string file = Path.Combine(RepoPaths.Root, "src", "Memcheck", "default.supp");
        RunResult asFile = MemcheckLauncher.Run(["--leak-check=full", "--error-exitcode=9", "--default-suppressions=no", $"--suppressions={file}", "--", program]);
        Assert.True(asFile.ExitCode == 0, asFile.StderrText);
    }

    [Fact]
    public void TheDefaultEntriesMatchTheFullStackToo()
    {
        // memcheck matches default.supp on symbol-table names first (no DWARF, no inlined frames);
        // given as a user's file (matched on the full stack, allocate_stack inlined in it) the same
        // entry must silence the same leak, or the two paths would disagree.
        string file = Path.Combine(RepoPaths.Root, "src", "Memcheck", "default.supp");
        RunResult run = MemcheckLauncher.Run(["--leak-check=full", "--error-exitcode=9", "--default-suppressions=no", $"--suppressions={file}",
            "--", CaseBinaries.Get("pthread_create")]);
        Assert.True(run.ExitCode == 0, run.StderrText);
        Assert.DoesNotContain("POSSIBLE LEAK", run.StderrText);
        Assert.Contains("glibc-thread-dtv-in-stack-cache", run.StderrText);
    }

    [Fact]
    public void TheProgramsOwnLeaksAreStillReported()
    {
        RunResult run = MemcheckLauncher.Run(["--leak-check=full", "--error-exitcode=9", "--", CaseBinaries.Get("error_kinds"), "possible-leak"]);
        Assert.True(run.ExitCode == 9, run.StderrText);
        Assert.Contains("POSSIBLE LEAK: 100 bytes in 1 block", run.StderrText);
        Assert.DoesNotContain("SUPPRESSED", run.StderrText);
    }
}
