using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Real multi-threaded programs of the system under full checking: the same output and status as
/// natively, and no error reported (their own leaks at exit are counted, not listed, by default).
/// </summary>
public class ThreadedProgramTests
{
    private static readonly Dictionary<string, string?> CLocale = new() { ["LC_ALL"] = "C", ["TZ"] = "UTC" };

    private static void AssertSameAndClean(string[] command, byte[]? stdin = null)
    {
        var native = ProcessRunner.Run(command[0], command[1..], stdin, CLocale);
        string json = Path.Combine(Scratch.NewDirectory("threaded"), "report.json");
        var run = MemcheckLauncher.Run(["--json", json, "--", .. command], stdin, CLocale);
        string context = $"{run.CommandLine}\nexit {run.ExitCode} (native {native.ExitCode})\nstderr:\n{run.StderrText}";
        Assert.True(run.ExitCode == native.ExitCode, context);
        Assert.True(run.Stdout.AsSpan().SequenceEqual(native.Stdout), $"stdout differs ({run.Stdout.Length} vs {native.Stdout.Length} bytes)\n{context}");
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.True(report.RootElement.GetProperty("errors").GetArrayLength() == 0, $"expected no errors\n{context}");
    }

    private static string Input(string name, int bytes)
    {
        string path = Path.Combine(Scratch.NewDirectory(name), "input.txt");
        File.WriteAllBytes(path, TestData.RandomLines(seed: 99, targetBytes: bytes));
        return path;
    }

    [Fact]
    public void XzWithTwoThreads() => AssertSameAndClean(["/usr/bin/xz", "-T2", "-1", "-c", Input("xz", 6 << 20)]);

    [Fact]
    public void ZstdWithTwoThreads()
    {
        Assert.True(File.Exists("/usr/bin/zstd"), "zstd is not installed (.ci/run installs it)");
        AssertSameAndClean(["/usr/bin/zstd", "-T2", "-c", Input("zstd", 6 << 20)]);
    }

    [Fact]
    // 3 MB: some 150,000 lines, above the count at which sort splits the work among its threads.
    public void SortWithTwoThreads() => AssertSameAndClean(["/usr/bin/sort", "--parallel=2", "-S", "64M", Input("sort", 3 << 20)]);

    [Fact]
    public void PythonThreadingAndSubprocess() => AssertSameAndClean(["/usr/bin/python3", "-I", "-c",
        "import threading, subprocess\n" +
        "out = []\n" +
        "def work(n):\n    s = 0\n    for i in range(100000): s += i * n\n    out.append(s)\n" +
        "ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]\n" +
        "[t.start() for t in ts]\n[t.join() for t in ts]\n" +
        "print(sorted(out))\n" +
        "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())\n"]);

    [Fact]
    // Ended threads joined, then a spawn at once, 60 times: the child must never inherit a runtime
    // lock the ending threads' host threads held (it hung in 1 of 6 runs of 100 rounds before
    // ForkGate waited for them; a hang fails here at the runner's timeout).
    public void ThreadsEndedThenSpawn() => AssertSameAndClean([CaseBinaries.Get("threads_then_spawn"), "60"]);

    [Fact]
    public void GdbVersion()
    {
        Assert.True(File.Exists("/usr/bin/gdb"), "gdb is not installed (.ci/run installs it)");
        AssertSameAndClean(["/usr/bin/gdb", "--version"]);
    }
}
