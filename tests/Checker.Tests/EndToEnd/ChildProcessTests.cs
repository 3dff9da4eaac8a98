using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Children under memcheck (--trace-children, yes by default): a program run by fork+exec, fexecve,
/// posix_spawn, system() and popen() is checked by a memcheck of its own, its heap overflow reported
/// under its own pid at its line, in its own JSON file, while the parent's output and status stay
/// what they are natively. posix_spawn of a missing program fails in the parent as natively, and a
/// vfork child's writes reach its parent. --trace-children=no and --trace-children-skip run the
/// child natively.
/// </summary>
public class ChildProcessTests
{
    private const string Source = "child_heap_bug.c";
    private static int OverflowLine => MemcheckJson.Line(Source, "LINE_CHILD_OVERFLOW");

    // The children print "pid=N"; the parent prints "spawned pid=N".
    private static readonly Regex Pids = new(@"pid=[0-9]+", RegexOptions.CultureInvariant);

    private static byte[] WithoutPids(byte[] output) =>
        System.Text.Encoding.UTF8.GetBytes(Pids.Replace(System.Text.Encoding.UTF8.GetString(output), "pid=N"));

    private static string Context(RunResult run) => $"{run.CommandLine}\nexit {run.ExitCode}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";

    /// <summary>The pid the child printed ("child argv0=... pid=N").</summary>
    private static int ChildPid(RunResult run)
    {
        Match m = Regex.Match(run.StdoutText, @"child argv0=.* pid=([0-9]+)");
        Assert.True(m.Success, $"the child printed nothing\n{Context(run)}");
        return int.Parse(m.Groups[1].Value);
    }

    /// <summary>Runs spawn_children MODE CHILD natively and under memcheck (extra options first) with --json DIR/report.json.</summary>
    private static (RunResult Native, RunResult Memcheck, string Json) Run(string mode, string child, params string[] options)
    {
        string program = CaseBinaries.Get("spawn_children");
        RunResult native = ProcessRunner.Run(program, [mode, child]);
        string json = Path.Combine(Scratch.NewDirectory("children-" + mode), "report.json");
        RunResult memcheck = MemcheckLauncher.Run([.. options, "--json", json, "--", program, mode, child]);
        return (native, memcheck, json);
    }

    private static void AssertSameAsNative(RunResult native, RunResult memcheck) =>
        NativeComparison.AssertSame(native, memcheck, WithoutPids);

    private static JsonElement ReadJson(string path, string context)
    {
        Assert.True(File.Exists(path), $"no JSON at {path}\n{context}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.Clone();
    }

    /// <summary>The "Error #" headlines memcheck wrote, with the pid each names.</summary>
    private static List<(int? Pid, string Line)> ErrorLines(RunResult run) =>
        NativeComparison.MemcheckLines(run.Stderr).Where(l => l.Contains(": Error #", StringComparison.Ordinal))
            .Select(l => (MemcheckLauncher.PidOf(l), l)).ToList();

    /// <summary>The child's overflow: reported once, under its pid, at its line, in its JSON; the parent reports nothing.</summary>
    private static void AssertChildReported(RunResult run, string json, string context)
    {
        int child = ChildPid(run);
        var errors = ErrorLines(run);
        var (pid, line) = Assert.Single(errors);
        Assert.True(pid == child && line.Contains("UNADDRESSABLE ACCESS beyond heap bounds", StringComparison.Ordinal),
            $"expected the overflow under the child's pid {child}, got: {line}\n{context}");
        Assert.Contains(NativeComparison.MemcheckLines(run.Stderr),
            l => MemcheckLauncher.PidOf(l) == child && l.Contains($"[{Path.Combine(RepoPaths.Cases, Source)}:{OverflowLine}]", StringComparison.Ordinal));

        JsonElement parent = ReadJson(json, context);
        Assert.NotEqual(child, parent.GetProperty("pid").GetInt32());
        Assert.Equal(0, parent.GetProperty("errors").GetArrayLength());
        Assert.Equal(0, parent.GetProperty("exit_code").GetInt32());

        string childJson = Path.Combine(Path.GetDirectoryName(json)!, $"report.{child}.json");
        JsonElement report = ReadJson(childJson, context);
        Assert.Equal(child, report.GetProperty("pid").GetInt32());
        Assert.Equal(3, report.GetProperty("exit_code").GetInt32());
        JsonElement error = Assert.Single(report.GetProperty("errors").EnumerateArray());
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        MemcheckJson.AssertFrame(error.GetProperty("stack")[0], "main", Source, OverflowLine, context);
    }

    [Theory]
    [InlineData("fork-exec")]
    [InlineData("fexecve")]
    [InlineData("posix_spawn")]
    [InlineData("system")]
    [InlineData("popen")]
    public void AChildsHeapBugIsReportedUnderItsOwnPid(string mode)
    {
        var (native, memcheck, json) = Run(mode, CaseBinaries.Get("child_heap_bug"));
        AssertSameAsNative(native, memcheck);
        AssertChildReported(memcheck, json, Context(memcheck));
    }

    [Fact]
    public void AStaticallyLinkedChildIsCheckedToo()
    {
        var (native, memcheck, json) = Run("fork-exec", CaseBinaries.Get("child_heap_bug.static"));
        AssertSameAsNative(native, memcheck);
        AssertChildReported(memcheck, json, Context(memcheck));
    }

    [Fact]
    public void AScriptChildRunsItsInterpreterUnderMemcheck()
    {
        // A #! script whose interpreter is the child: the kernel runs it as CHILD SCRIPT ARGS.
        string script = Path.Combine(Scratch.NewDirectory("child-script"), "script");
        File.WriteAllText(script, $"#!{CaseBinaries.Get("child_heap_bug")}\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (native, memcheck, json) = Run("fork-exec", script);
        AssertSameAsNative(native, memcheck);
        AssertChildReported(memcheck, json, Context(memcheck));
    }

    [Fact]
    public void PosixSpawnOfAMissingProgramFailsInTheParentAsNatively()
    {
        var (native, memcheck, _) = Run("posix_spawn-missing", CaseBinaries.Get("child_heap_bug"));
        Assert.Contains("posix_spawn: error 2 ", native.StdoutText);
        AssertSameAsNative(native, memcheck);
        Assert.Empty(ErrorLines(memcheck));
    }

    [Fact]
    public void AVforkChildsWritesReachItsParent()
    {
        var (native, memcheck, _) = Run("vfork-write", CaseBinaries.Get("child_heap_bug"));
        Assert.Contains("after vfork: shared=42", native.StdoutText);
        AssertSameAsNative(native, memcheck);
        Assert.Empty(ErrorLines(memcheck));
    }

    /// <summary>
    /// A block a vfork child allocates and fills is its parent's, with the child's bytes: they come
    /// back defined (the pages' definedness goes with them), not undefined as the block was when the
    /// parent repeated its allocation (dash's stack blocks: every command it ran reported).
    /// </summary>
    [Fact]
    public void AVforkChildsFilledBlockIsDefinedInItsParent()
    {
        string binary = CaseBinaries.Get("vfork_child_fills");
        RunResult native = ProcessRunner.Run(binary, []);
        RunResult memcheck = MemcheckLauncher.Run(["--", binary]);
        Assert.Equal("x 63\n", native.StdoutText);
        Assert.Equal(native.StdoutText, memcheck.StdoutText);
        Assert.Equal(0, memcheck.ExitCode);
        Assert.Empty(ErrorLines(memcheck));
    }

    [Fact]
    public void AVforkChildsPagesDoNotUndoWhatOtherThreadsWrote()
    {
        // The child is a copy: a page another thread of the parent wrote meanwhile is one the child
        // holds alone too (copy-on-write broken on the parent's side), and must not come back.
        var (native, memcheck, _) = Run("spawn-threads", CaseBinaries.Get("child_heap_bug"));
        Assert.Contains("spawn-threads: 50 of 50 failed with ENOENT, count went back 0 times", native.StdoutText);
        AssertSameAsNative(native, memcheck);
        Assert.Empty(ErrorLines(memcheck));
    }

    [Fact]
    public void TraceChildrenNoRunsTheChildNatively()
    {
        var (native, memcheck, json) = Run("fork-exec", CaseBinaries.Get("child_heap_bug"), "--trace-children=no");
        string context = Context(memcheck);
        AssertSameAsNative(native, memcheck);
        Assert.True(ErrorLines(memcheck).Count == 0, context);
        int child = ChildPid(memcheck);
        Assert.DoesNotContain(NativeComparison.MemcheckLines(memcheck.Stderr), l => MemcheckLauncher.PidOf(l) == child);
        Assert.Equal([json], Directory.GetFiles(Path.GetDirectoryName(json)!));
    }

    [Theory]
    [InlineData("*/child_heap_*", false)]
    [InlineData("/nowhere/*,*/child_heap_bu?", false)]
    [InlineData("*/spawn_children,child_heap_bug", true)]
    public void TraceChildrenSkipMatchesTheExecdPath(string patterns, bool checkedChild)
    {
        var (native, memcheck, json) = Run("fork-exec", CaseBinaries.Get("child_heap_bug"), $"--trace-children-skip={patterns}");
        AssertSameAsNative(native, memcheck);
        if (checkedChild) AssertChildReported(memcheck, json, Context(memcheck));
        else Assert.True(ErrorLines(memcheck).Count == 0, Context(memcheck));
    }

    [Fact]
    public void AnArgumentThatIsNotUtf8RunsTheChildNativelyWithOneLine()
    {
        var (native, memcheck, _) = Run("binary-arg", CaseBinaries.Get("child_heap_bug"));
        AssertSameAsNative(native, memcheck);
        Assert.True(ErrorLines(memcheck).Count == 0, Context(memcheck));
        Assert.Single(NativeComparison.MemcheckLines(memcheck.Stderr),
            l => l.EndsWith($"{CaseBinaries.Get("child_heap_bug")} runs natively, unchecked: its argument vector is not UTF-8 text", StringComparison.Ordinal));
    }

    [Fact]
    public void ASetUserIdChildRunsNativelyWithOneLine()
    {
        // Under memcheck it would run without the file owner's rights: natively, and said so.
        string child = Path.Combine(Scratch.NewDirectory("setuid-child"), "child");
        File.Copy(CaseBinaries.Get("child_heap_bug"), child);
        File.SetUnixFileMode(child, File.GetUnixFileMode(child) | UnixFileMode.SetUser);
        var (native, memcheck, _) = Run("fork-exec", child);
        AssertSameAsNative(native, memcheck);
        Assert.True(ErrorLines(memcheck).Count == 0, Context(memcheck));
        Assert.Single(NativeComparison.MemcheckLines(memcheck.Stderr), l => l.Contains($"{child} runs natively, unchecked: {child} is set-user-ID", StringComparison.Ordinal));
    }

    [Fact]
    public void TheInternalMarkerIsRefusedWithoutItsValues()
    {
        RunResult run = MemcheckLauncher.Run(["--traced-exec", "x"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("memcheck: --traced-exec is memcheck's own (it runs programs that checked programs exec)\n", run.StderrText);
    }

    [Fact]
    public void AProgramExecdInTheSameProcessWritesItsOwnJson()
    {
        // exec_after_error overflows, then execs /bin/true: one pid, two programs, two reports.
        string directory = Scratch.NewDirectory("exec-chain-json");
        RunResult run = MemcheckLauncher.Run(["--json", Path.Combine(directory, "out-%p.json"), "--", CaseBinaries.Get("exec_after_error")]);
        string context = Context(run);
        Assert.True(run.ExitCode == 0, context);
        string[] files = Directory.GetFiles(directory).OrderBy(f => f.Length).ToArray();
        Assert.True(files.Length == 2, string.Join("\n", files) + "\n" + context);
        int pid = int.Parse(Path.GetFileName(files[0])["out-".Length..^".json".Length]);
        JsonElement first = ReadJson(Path.Combine(directory, $"out-{pid}.json"), context);
        Assert.Equal("/bin/true", first.GetProperty("exec").GetProperty("program").GetString());
        Assert.Equal(1, first.GetProperty("errors").GetArrayLength());
        JsonElement second = ReadJson(Path.Combine(directory, $"out-{pid}.1.json"), context);
        Assert.Equal(pid, second.GetProperty("pid").GetInt32());
        Assert.Equal("/bin/true", second.GetProperty("program").GetString());
        Assert.Equal(0, second.GetProperty("exit_code").GetInt32());
        // From the exec on, every line names the one pid (before it, the process had not forked or exec'd).
        List<string> lines = NativeComparison.MemcheckLines(run.Stderr);
        int ended = lines.FindIndex(l => l.Contains("its report ends here", StringComparison.Ordinal));
        Assert.True(ended >= 0 && ended < lines.Count - 1, context);
        Assert.All(lines[ended..], l => Assert.Equal(pid, MemcheckLauncher.PidOf(l)));
    }
}
