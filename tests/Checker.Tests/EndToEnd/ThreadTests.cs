using System.Text.Json;
using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Guest threads run on host threads of their own, in parallel, and every check works on them: an
/// error names its thread (number and tid) and where the thread was created; shared state (the
/// heap, the cache, the shadow) loses nothing when threads interleave; thread exit, join, detach,
/// TLS and keys behave as natively; the leak scan uses every thread's registers and stack.
/// </summary>
public class ThreadTests
{
    [Fact]
    public void PthreadCreate_RunsAndJoins()
    {
        var program = CaseBinaries.Get("pthread_create");
        foreach (string tool in new[] { "none", "memcheck" })
        {
            var result = MemcheckLauncher.Run(["--tool", tool, "--", program]);
            string context = $"{result.CommandLine}\nexit {result.ExitCode}\nstderr:\n{result.StderrText}";
            Assert.True(result.ExitCode == 0 && result.StdoutText == "thread set value=42\n", context);
        }
    }

    [Fact]
    public void HeapOverflowInAWorker_ReportedOnThatThreadWithItsCreationSite()
    {
        string program = CaseBinaries.Get("threads_heap_overflow");
        MemcheckReport report = RunMemcheck(program);
        string context = report.Context;
        string stdout = report.Run.StdoutText;
        Assert.True(report.Run.ExitCode == 0 && stdout.EndsWith("joined 8 workers, sum 28\n", StringComparison.Ordinal), context);
        long tid = long.Parse(stdout.Split('\n')[0].Replace("overflow in tid ", ""));

        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 1, $"expected one error\n{context}");
        JsonElement error = errors[0];
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        AssertFrame(error.GetProperty("stack")[0], "worker", "threads_heap_overflow.c", Line("threads_heap_overflow.c", "LINE_OVERFLOW"), context);
        Assert.True(error.GetProperty("tid").GetInt64() == tid, $"expected tid {tid}\n{context}");
        int thread = error.GetProperty("thread").GetInt32();
        Assert.True(thread > 1, context);

        // The text report names the thread and shows where main created it.
        string[] lines = report.Run.StderrText.Split('\n');
        int note = Array.FindIndex(lines, l => l.Contains($"Note: in thread {thread} (tid {tid}), created here:", StringComparison.Ordinal));
        Assert.True(note > 0, $"no thread note\n{context}");
        int create = Line("threads_heap_overflow.c", "LINE_CREATE");
        Assert.Contains(lines[note..], l => l.Contains($"main [{Path.Combine(RepoPaths.Cases, "threads_heap_overflow.c")}:{create}]", StringComparison.Ordinal));
    }

    [Fact]
    public void SixteenThreadsSharingBuffersAndFreeingEachOthersBlocks_ReportNothing()
    {
        string program = CaseBinaries.Get("threads_shared_bytes");
        var native = ProcessRunner.Run(program, []);
        MemcheckReport report = RunMemcheck(program);
        Assert.True(report.Run.ExitCode == 0 && report.Run.StdoutText == native.StdoutText, report.Context);
        Assert.True(report.Errors.Length == 0, $"expected no errors\n{report.Context}");
    }

    [Fact]
    public void CreateJoinChurnDetachedThreadsTlsAndKeys_BehaveAsNatively()
    {
        string program = CaseBinaries.Get("threads_lifecycle");
        var native = ProcessRunner.Run(program, []);
        Assert.Equal(0, native.ExitCode);
        MemcheckReport report = RunMemcheck(program, "--leak-check=full");
        string context = report.Context;
        Assert.True(report.Run.ExitCode == 0 && report.Run.StdoutText == native.StdoutText, $"native:\n{native.StdoutText}\n{context}");
        // The 100-byte block only a still-waiting thread points at is reachable (every thread is a root);
        // glibc's per-thread DTVs, reached through interior pointers, are possible leaks as under Valgrind.
        Assert.DoesNotContain(report.Errors, e => e.GetProperty("kind").GetString() != "possible-leak");
    }

    [Theory]
    [InlineData("worker_exit", 3)]
    [InlineData("main_returns", 4)]
    [InlineData("main_pthread_exit", 0)]
    [InlineData("worker_crash", 128 + 11)]
    public void HowAProcessWithThreadsEnds_AsNatively(string mode, int status)
    {
        string program = CaseBinaries.Get("threads_endings");
        var native = ProcessRunner.Run(program, [mode]);
        Assert.Equal(status, native.ExitCode);
        MemcheckReport report = RunMemcheckCommand([program, mode]);
        string context = report.Context;
        Assert.True(report.Run.ExitCode == status && report.Run.StdoutText == native.StdoutText, $"exit {report.Run.ExitCode}\n{context}");
        if (mode != "worker_crash")
        {
            Assert.True(report.Errors.Length == 0, context);
            return;
        }
        JsonElement error = Assert.Single(report.Errors);
        AssertFrame(error.GetProperty("stack")[0], "crashes", "threads_endings.c", Line("threads_endings.c", "LINE_WORKER_CRASH"), context);
        Assert.Equal(2, error.GetProperty("thread").GetInt32());
        Assert.Equal(11, report.Root.GetProperty("signal").GetProperty("number").GetInt32());
    }
}
