using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.EndToEnd;
using Checker.Tests.Loading;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Valgrind's client requests (issue 11): programs annotated with valgrind.h and memcheck.h run under
/// memcheck unchanged and get Valgrind's answers and errors. A pool allocator's errors (a read after
/// a pool free, a write past a pool block, a branch on a pool block's undefined bytes, a lost
/// MALLOCLIKE block) are the installed valgrind's, kind for kind and line for line, at -O0 and -O2;
/// the other requests answer as under valgrind, which prints the same program output.
/// </summary>
public class ClientRequestTests
{
    private const string Pool = "client_pool.c";
    private const string Requests = "client_requests.c";

    private static (string Kind, int Line)[] Ours(MemcheckReport report, string source) =>
        report.Errors.Select(e => (e.GetProperty("kind").GetString()!, LineIn(e, source))).ToArray();

    private static int LineIn(JsonElement error, string source) =>
        error.GetProperty("stack").EnumerateArray()
            .FirstOrDefault(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith("/" + source, StringComparison.Ordinal)) is { ValueKind: JsonValueKind.Object } frame
            ? frame.GetProperty("line").GetInt32() : 0;

    private static string Describe(IEnumerable<(string Kind, int Line)> errors) => string.Join(", ", errors.Select(e => $"{e.Kind}@{e.Line}"));

    /// <param name="distinct">Compare each error once: valgrind counts the records of every leak check the program asks for as errors, memcheck reports them apart (as a nudge's).</param>
    private static void AssertSameErrors((string Kind, int Line)[] expected, (string Kind, int Line)[] ours, ValgrindRun valgrind, string context, bool distinct = false)
    {
        (string, int)[] theirs = valgrind.Errors.Select(e => (e.Kind, e.Line)).ToArray();
        if (distinct) theirs = theirs.Distinct().ToArray();
        Assert.True(expected.Order().SequenceEqual(theirs.Order()),
            $"valgrind's errors {Describe(theirs)} are not the expected {Describe(expected)}\n{valgrind.Run.StderrText}");
        Assert.True(expected.Order().SequenceEqual(ours.Order()), $"memcheck's errors {Describe(ours)} are not valgrind's {Describe(expected)}\n{context}");
    }

    [Fact]
    public void MemoryMappedAgainAfterMunmap_StartsDefined_AsUnderValgrind()
    {
        // Its old bytes were marked undefined, then unmapped (the shadow's whole pages and both partial ends).
        string program = CaseBinaries.Get("client_remapped_memory");
        var report = RunMemcheck(program);
        ValgrindRun valgrind = ValgrindRun.Of(program, "client_remapped_memory.c");
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal("6 fresh bytes read zero\n", report.Run.StdoutText);
        Assert.Equal(report.Run.StdoutText, valgrind.Run.StdoutText);
        Assert.Empty(valgrind.Errors);
        Assert.True(report.Errors.Length == 0, $"memcheck reported {Describe(Ours(report, "client_remapped_memory.c"))}\n{report.Run.StderrText}");
    }

    [Theory]
    [InlineData("client_pool")]
    [InlineData("client_pool.O2")]
    public void PoolAllocator_GetsValgrindsErrors(string binary)
    {
        string program = CaseBinaries.Get(binary);
        RunResult native = ProcessRunner.Run(program, []);
        var report = RunMemcheck(program, "--leak-check=full");
        ValgrindRun valgrind = ValgrindRun.Of(program, Pool);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        Assert.Equal(native.StdoutText, valgrind.Run.StdoutText);

        AssertSameErrors(
        [
            ("unaddressable", Line(Pool, "LINE_USE_AFTER_POOL_FREE")),
            ("unaddressable", Line(Pool, "LINE_POOL_OVERFLOW")),
            ("uninitialized", Line(Pool, "LINE_POOL_UNINIT")),
            ("leak", Line(Pool, "LINE_ARENA_ALLOC")),
        ], Ours(report, Pool), valgrind, report.Context);

        // The pool's blocks are described as blocks: freed by MEMPOOL_FREE, overrun past their 10 bytes.
        JsonElement afterFree = report.Errors[0];
        Assert.Contains("of freed memory", afterFree.GetProperty("message").GetString());
        Assert.Equal("pool_alloc", FunctionOf(afterFree.GetProperty("block").GetProperty("alloc_stack")[0]));
        Assert.Equal("pool_free", FunctionOf(afterFree.GetProperty("block").GetProperty("free_stack")[0]));
        Assert.Contains("beyond a 10-byte block", report.Errors[1].GetProperty("message").GetString());
        Assert.Contains("40 direct bytes in 1 block", report.Errors[3].GetProperty("message").GetString());
        // The superblocks the pool and the arena carve from are not leaks of their own.
        Assert.Single(report.Errors, e => e.GetProperty("kind").GetString() == "leak");
    }

    [Theory]
    [InlineData("client_requests")]
    [InlineData("client_requests.O2")]
    public void Requests_AnswerAsValgrindDoes(string binary)
    {
        string program = CaseBinaries.Get(binary);
        var report = RunMemcheck(program, "--leak-check=full");
        ValgrindRun valgrind = ValgrindRun.Of(program, Requests);
        string context = report.Context;
        const string answers = """
            running on valgrind: 1
            unknown requests: 1234 5678
            undefined at 0
            undefined at 8
            unaddressable at 16
            unaddressable at 4
            defined: -1
            undefined at 12
            addressable after: -1
            get vbits 1: 00 00 00 00
            set vbits 1: undefined at 2
            errors so far: 6
            errors while disabled: 0
            errors after enabling: 1
            discard 0, again 1
            printf returned 51
            leaked 24 dubious 0 suppressed 0
            leaked blocks 1
            read 0 0 0

            """;
        Assert.Equal(answers, report.Run.StdoutText);
        Assert.Equal(answers, valgrind.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);

        AssertSameErrors(
        [
            ("uninitialized", Line(Requests, "LINE_CHECK_FRESH")),
            ("uninitialized", Line(Requests, "LINE_CHECK_HALF")),
            ("unaddressable", Line(Requests, "LINE_CHECK_PAST")),
            ("unaddressable", Line(Requests, "LINE_CHECK_NOACCESS")),
            ("uninitialized", Line(Requests, "LINE_CHECK_UNDEFINED")),
            ("uninitialized", Line(Requests, "LINE_CHECK_VBITS")),
            ("unaddressable", Line(Requests, "LINE_READ_ENABLED")),
            ("unaddressable", Line(Requests, "LINE_READ_DESCRIBED")),
            ("leak", Line(Requests, "LINE_LOST")),
            ("leak", Line(Requests, "LINE_LOST_MORE")),
        ], Ours(report, Requests), valgrind, context, distinct: true);

        string[] messages = report.Errors.Select(e => e.GetProperty("message").GetString()!).ToArray();
        Assert.StartsWith("client check VALGRIND_CHECK_MEM_IS_DEFINED(", messages[0]);
        Assert.Contains("is undefined, 0 byte(s) into a 16-byte block", messages[0]);
        Assert.Contains("client check VALGRIND_CHECK_MEM_IS_ADDRESSABLE(", messages[2]);
        Assert.Contains("is unaddressable, 0 byte(s) beyond a 16-byte block", messages[2]);
        Assert.Contains("1 byte(s) inside the 8-byte block described as \"the tail of buf\" (VALGRIND_CREATE_BLOCK)", messages[7]);

        // VALGRIND_PRINTF's text (valgrind's clientmsg), then PRINTF_BACKTRACE's stack.
        string printed = valgrind.ClientMessages[0].TrimEnd();
        Assert.Equal("printf -42    ab|ff  |123456789012 z % 0x1234 2.50", printed);
        string stderr = report.Run.StderrText;
        Assert.Contains("\nmemcheck: " + printed + "\n", stderr);
        Assert.Matches(new Regex($@"^memcheck: backtrace from main\nmemcheck: #0 VALGRIND_PRINTF_BACKTRACE \[/usr/include/valgrind/valgrind\.h:\d+\].*\nmemcheck: #1 main \[\S*/{Requests}:{Line(Requests, "LINE_BACKTRACE")}\]", RegexOptions.Multiline), stderr);

        // The leak checks it asked for: all records, then only the new one, then the summary alone.
        string[] checks = Regex.Split(stderr, @"^memcheck: (?=VALGRIND_DO_\w+: the leak check)", RegexOptions.Multiline);
        Assert.True(checks.Length == 4, context);
        Assert.Matches($@"^VALGRIND_DO_LEAK_CHECK:[^\n]*\n(.*\n)*memcheck: Error #1: LEAK: 24 direct bytes in 1 block\nmemcheck: #0 lose \[\S*:{Line(Requests, "LINE_LOST")}\]", checks[1]);
        Assert.DoesNotContain("64 direct bytes", checks[1]);
        Assert.StartsWith("VALGRIND_DO_ADDED_LEAK_CHECK:", checks[2]);
        Assert.Matches($@"Error #1: LEAK: 64 direct bytes in 1 block\nmemcheck: #0 lose_more \[\S*:{Line(Requests, "LINE_LOST_MORE")}\]", checks[2]);
        Assert.DoesNotContain("24 direct bytes", checks[2]);
        Assert.StartsWith("VALGRIND_DO_QUICK_LEAK_CHECK:", checks[3]);
        Assert.Contains("2 unique,     2 total,     88 byte(s) of leak(s)", checks[3]);
        string quick = checks[3][..(checks[3].IndexOf("possible leak(s)", StringComparison.Ordinal) + 1)];
        Assert.DoesNotContain("Error #", quick);
    }

    /// <summary>
    /// MOVE_MEMPOOL, MEMPOOL_CHANGE, MEMPOOL_TRIM, RESIZEINPLACE_BLOCK, a FREELIKE_BLOCK twice and an
    /// auto-free metapool: valgrind's errors, at -O0 all of them. An error about a request itself is
    /// reported at the request's line; valgrind names the address after the request sequence, which
    /// at -O2 can be the next statement's, so there only the accesses are compared with it.
    /// </summary>
    [Theory]
    [InlineData("client_mempool_ops", true)]
    [InlineData("client_mempool_ops.O2", false)]
    public void PoolOperations_GetValgrindsErrors(string binary, bool requestLinesAreValgrinds)
    {
        const string source = "client_mempool_ops.c";
        string program = CaseBinaries.Get(binary);
        var report = RunMemcheck(program, "--leak-check=full");
        ValgrindRun valgrind = ValgrindRun.Of(program, source);
        Assert.Equal("exists: a 1 b 0\nmoved: a 0 b 1 zeroed 0\ndestroyed: b 0\nread 0 0 0 0 109\n", report.Run.StdoutText);
        Assert.Equal(report.Run.StdoutText, valgrind.Run.StdoutText);
        (string Kind, int Line)[] expected =
        [
            ("invalid-heap-arg", Line(source, "LINE_FREE_OLD_NAME")),
            ("unaddressable", Line(source, "LINE_USE_CHANGED")),
            ("unaddressable", Line(source, "LINE_USE_TRIMMED")),
            ("unaddressable", Line(source, "LINE_USE_SHRUNK")),
            ("uninitialized", Line(source, "LINE_USE_GROWN")),
            ("invalid-heap-arg", Line(source, "LINE_FREE_TWICE")),
            ("unaddressable", Line(source, "LINE_USE_AUTO_FREED")),
        ];
        (string Kind, int Line)[] ours = Ours(report, source);
        Assert.True(expected.SequenceEqual(ours), $"memcheck's errors {Describe(ours)}, expected {Describe(expected)}\n{report.Context}");
        (string Kind, int Line)[] theirs = valgrind.Errors.Select(e => (e.Kind, e.Line)).ToArray();
        bool Compared((string Kind, int Line) e) => requestLinesAreValgrinds || e.Kind != "invalid-heap-arg";
        Assert.True(expected.Where(Compared).SequenceEqual(theirs.Where(Compared)), $"valgrind's errors {Describe(theirs)}, memcheck's {Describe(ours)}");
        Assert.Equal(expected.Length, theirs.Length);

        string[] messages = report.Errors.Select(e => e.GetProperty("message").GetString()!).ToArray();
        Assert.Contains("VALGRIND_MEMPOOL_FREE", messages[0]);
        Assert.Contains("no memory pool has this address", messages[0]);
        Assert.Contains("of freed memory", messages[2]);
        Assert.Contains("4 byte(s) beyond a 16-byte block", messages[3]);
        Assert.Contains("VALGRIND_FREELIKE_BLOCK", messages[5]);
        Assert.Contains("double free", messages[5]);
        Assert.Contains("16 byte(s) into a 128-byte block", messages[6]);
    }

    /// <summary>
    /// Requests about memory no program has (memcheck's own region, the whole address space, a block
    /// wrapping past its end) change only what the guest has mapped: memcheck neither faults nor
    /// grows, the host address is unaddressable to the check, and the program goes on.
    /// </summary>
    [Fact]
    public void WildRanges_NeitherFaultNorGrow()
    {
        const string source = "client_wild_ranges.c";
        CappedRunResult run = CappedRun.Run(MemcheckLauncher.Executable, ["--json", "/dev/null", "--", CaseBinaries.Get("client_wild_ranges")],
            TimeSpan.FromSeconds(60), 1L << 30, Scratch.NewDirectory("client-wild"));
        string context = $"exit {run.ExitCode}, peak {run.PeakRssBytes >> 20} MB\n{run.Stderr}";
        Assert.False(run.TimedOut || run.OverMemoryCap, context);
        Assert.Equal("host memory unaddressable: 1\nheap still usable: 1, defined: 0\n", run.Stdout);
        Assert.Equal(0, run.ExitCode);
        // The JSON went into the device, which is still one (renamed over, it became a regular file).
        Assert.True(Checker.Reports.ReportFile.IsSpecial("/dev/null"), "/dev/null is no longer a device");
        Assert.Matches(new Regex($@"UNADDRESSABLE ACCESS: client check VALGRIND_CHECK_MEM_IS_ADDRESSABLE\(0x7f0000000000, 16\).*\nmemcheck: #0 main \[\S*/{source}:{Line(source, "LINE_CHECK_HOST")}\]"), run.Stderr);
        Assert.Matches(new Regex($@"INVALID HEAP ARGUMENT: VALGRIND_FREELIKE_BLOCK 0xfffffffffffff000: .*\nmemcheck: #0 main \[\S*/{source}:{Line(source, "LINE_FREE_WILD")}\]"), run.Stderr);
    }

    /// <summary>
    /// glib annotates itself: under Valgrind GObject hands out each instance as a MALLOCLIKE block
    /// inside the malloc'd block holding its private data, and frees it with FREELIKE. gio's leaks
    /// are then valgrind's (one possible leak, a thread's DTV), where the instances' interior
    /// pointers made 27 false possible leaks before. With definedness (the default): gio once died
    /// here on a wrong allocation size (a held check register not given back at a switch to the
    /// propagating mode, uninit_held_scratch.c); its output is native's.
    /// </summary>
    [Fact]
    public void GObjectInstances_LeakAsUnderValgrind()
    {
        const string gio = "/usr/bin/gio";
        string[] arguments = ["info", "/etc/hostname"];
        RunResult native = ProcessRunner.Run(gio, arguments);
        // Without memcheck's default suppression of thread DTVs (default.supp), which valgrind reports for a running thread.
        var report = RunMemcheckCommand([gio, .. arguments], "--leak-check=full", "--default-suppressions=no");
        ValgrindRun valgrind = ValgrindRun.Of(gio, "", arguments);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        string Leaks(IEnumerable<(string Kind, ulong Bytes)> leaks) =>
            string.Join(", ", leaks.GroupBy(l => l.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Sum(l => (long)l.Bytes)} bytes"));
        string theirs = Leaks(valgrind.Errors.Where(e => e.Kind is "leak" or "possible-leak").Select(e => (e.Kind, e.LeakedBytes)));
        string ours = Leaks(report.Errors.Where(e => e.GetProperty("kind").GetString() is "leak" or "possible-leak")
            .Select(e => (e.GetProperty("kind").GetString()!, e.GetProperty("leak").GetProperty("bytes").GetUInt64())));
        Assert.True(theirs.Length > 0, valgrind.Run.StderrText);
        Assert.True(ours == theirs, $"memcheck: {ours}; valgrind: {theirs}\n{report.Context}");
    }

    /// <summary>
    /// VALGRIND_DISCARD_TRANSLATIONS is the engine's, as it is Valgrind's core's: a JIT that rewrites
    /// code in place and discards it runs the new code under either tool (without the request the
    /// translator would run its old translation).
    /// </summary>
    [Theory]
    [InlineData("none")]
    [InlineData("memcheck")]
    public void DiscardTranslations_RunsTheRewrittenCode(string tool)
    {
        RunResult run = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get("client_discard")]);
        Assert.True(run.ExitCode == 0 && run.StdoutText == "first 1 second 2\n", $"exit {run.ExitCode}\n{run.StdoutText}\n{run.StderrText}");
    }

    /// <summary>
    /// Natively every request answers its default (the sequence is a no-op); under --tool none the
    /// engine answers RUNNING_ON_VALGRIND itself and everything else keeps its default, as the tool
    /// has nothing to say; --trace-events shows each request the tool was asked.
    /// </summary>
    [Fact]
    public void NativelyAndUnderTheEmptyTool_RequestsAnswerTheirDefaults()
    {
        string program = CaseBinaries.Get("client_requests.O2");
        RunResult native = ProcessRunner.Run(program, []);
        RunResult none = MemcheckLauncher.Run(["--tool", "none", "--trace-events", "--", program]);
        Assert.StartsWith("running on valgrind: 0\nunknown requests: 1234 5678\nundefined at -1\n", native.StdoutText);
        Assert.Contains("errors so far: 0\n", native.StdoutText);
        Assert.Contains("printf returned 0\n", native.StdoutText);
        Assert.Equal(0, native.ExitCode);
        Assert.Equal(native.StdoutText.Replace("running on valgrind: 0", "running on valgrind: 1"), none.StdoutText);
        Assert.Equal(0, none.ExitCode);
        string unknownTool = $"0x{0x4d4300ffu:x}";
        Assert.Matches(new Regex($@"^memcheck: event: client-request 1 {unknownTool} \(0x1, 0x2, 0x3, 0x4, 0x5\) default 0x4d2 -> 0x4d2$", RegexOptions.Multiline), none.StderrText);
        // The engine's own answer never reaches the tool.
        Assert.DoesNotContain("client-request 1 0x1001 ", none.StderrText);
    }
}
