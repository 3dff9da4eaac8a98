using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.MemcheckTool.Heap;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Heap;

/// <summary>
/// The malloc family's native fast path (<see cref="HeapFastPath"/>, heap_fastpath.c): it shares
/// the heap's tables with the C# side, so both must agree on their layouts, and whatever it
/// serves must leave the reports exactly as the C# handlers alone leave them
/// (MEMCHECK_NO_HEAP_FAST_PATH=1 turns it off).
/// </summary>
public class HeapFastPathTests
{
    [Fact]
    public void TheSharedObjectWasBuiltWithTheSameLayouts()
    {
        Assert.True(HeapFastPath.LayoutsAgree(), "libchecker-heap.so's structs differ from HeapFastPath's (or it is missing)");
        Assert.Equal(WalkMemo.EntrySize, WalkMemo.ActualEntrySize);
    }

    [Fact]
    public void ReportsAreTheSameWithAndWithoutIt()
    {
        string program = CaseBinaries.Get("heap_fast_path");
        var fast = Run(program, fastPath: true);
        var slow = Run(program, fastPath: false);
        Assert.True(Count(fast.Run.StderrText, "in native code") > 5000, fast.Context);
        Assert.Equal(0, Count(slow.Run.StderrText, "in native code"));
        Assert.Equal(Count(slow.Run.StderrText, "intercepted calls"), Count(fast.Run.StderrText, "intercepted calls"));
        Assert.Equal(slow.Run.StdoutText, fast.Run.StdoutText);
        // Kinds, messages, stacks (allocation and free ones included), leak sizes: all of it.
        Assert.Equal(Errors(slow), Errors(fast));
        string[] kinds = fast.Errors.Select(e => e.GetProperty("kind").GetString()!).ToArray();
        Assert.True(kinds.Length >= 6, fast.Context);
        Assert.Contains(fast.Errors, e => e.GetProperty("message").GetString()!.Contains("double free", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(MemcheckJson.Line("heap_fast_path.cpp", "LINE_LEAK"), LeakLine(fast));
        // calloc's blocks, served natively too, read as cleared and defined (no report in the
        // loop), and are bounded: one read past the end, at its line.
        JsonElement past = Assert.Single(fast.Errors, e => e.GetProperty("stack")[0].GetProperty("line").GetInt32() == MemcheckJson.Line("heap_fast_path.cpp", "LINE_CLEARED_PAST"));
        Assert.Contains("beyond", past.GetProperty("message").GetString()!);
        Assert.Equal(10, kinds.Length);   // the nine above and the leak
    }

    [Fact]
    public void OnlyASingleThreadedProgramsCallsAreServed()
    {
        var report = Run(CaseBinaries.Get("heap_fast_path_threads"), fastPath: true);
        Assert.Equal("done\n", report.Run.StdoutText);
        long calls = Count(report.Run.StderrText, "intercepted calls"), native = Count(report.Run.StderrText, "in native code");
        // Of main's 40,064 calls before the threads start, its frees at least (its mallocs find
        // their free lists empty while the quarantine fills, and are carved from the arena's end
        // natively too, but for the first of each call site); none after.
        Assert.InRange(native, 15000, 40064);
        Assert.True(calls - native >= 2 * 200000 + 40000, report.Context);
        JsonElement error = Assert.Single(report.Errors);
        Assert.Contains("double free", error.GetProperty("message").GetString()!, StringComparison.OrdinalIgnoreCase);
        MemcheckJson.AssertFrame(error.GetProperty("stack")[0], "main", "heap_fast_path_threads.c", MemcheckJson.Line("heap_fast_path_threads.c", "LINE_DOUBLE"), report.Context);
    }

    [Fact]
    public void ReallocOfAProtectedBlockIsTheProgramsFaultNotMemchecks()
    {
        // The program mprotects part of its heap: the fast path stops (it has no fault recovery),
        // and realloc's copy faults as it would natively: the program's own handler takes it.
        var report = Run(CaseBinaries.Get("heap_protected_realloc"), fastPath: true);
        Assert.True(report.Run.ExitCode == 0, report.Context);
        Assert.Equal("caught SIGSEGV in realloc\nq[0]=y\n", report.Run.StdoutText);
        JsonElement error = Assert.Single(report.Errors);
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        JsonElement main = error.GetProperty("stack").EnumerateArray().First(f => MemcheckJson.FunctionOf(f) == "main");
        Assert.Equal(MemcheckJson.Line("heap_protected_realloc.c", "LINE_REALLOC"), main.GetProperty("line").GetInt32());
    }

    [Fact]
    public void AllocatingIntoMemoryTheProgramProtectedIsTheProgramsFaultNotMemchecks()
    {
        // The program protects heap memory its next blocks come from: the tag written below a
        // block, or calloc's zeros, fault there (memcheck died of an AccessViolation in C#); it is
        // the program's SIGSEGV at the call, as natively, and its handler exits.
        var report = Run(CaseBinaries.Get("heap_protected_arena"), fastPath: true);
        Assert.True(report.Run.ExitCode == 3, report.Context);
        Assert.Equal("caught SIGSEGV\n", report.Run.StdoutText);
        JsonElement error = Assert.Single(report.Errors, e => e.GetProperty("kind").GetString() != "leak");
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        JsonElement get = error.GetProperty("stack").EnumerateArray().First(f => MemcheckJson.FunctionOf(f) == "get");
        Assert.Equal(MemcheckJson.Line("heap_protected_arena.c", "LINE_GET"), get.GetProperty("line").GetInt32());
    }

    // The whole errors array, less the thread ids (each run its own).
    private static string Errors(MemcheckReport report) =>
        Regex.Replace(JsonSerializer.Serialize(report.Root.GetProperty("errors")), "\"tid\":[0-9]+", "\"tid\":0");

    private static int LeakLine(MemcheckReport report)
    {
        JsonElement leak = report.Errors.Single(e => e.GetProperty("kind").GetString() == "leak");
        return leak.GetProperty("stack").EnumerateArray().First(f => MemcheckJson.FunctionOf(f) == "main").GetProperty("line").GetInt32();
    }

    [Theory]
    [InlineData("3", true, "oldest two reused: 2, newest three reused: 0\n")]
    [InlineData("3", false, "oldest two reused: 2, newest three reused: 0\n")]
    [InlineData("100", true, "oldest two reused: 0, newest three reused: 0\n")]
    public void DelayFreesBoundsTheQuarantineByCount(string delayFrees, bool fastPath, string expected)
    {
        // --delay-frees (Dr. Memory's -delay_frees) applies on the native path as in the C# handlers.
        var environment = new Dictionary<string, string?> { ["MEMCHECK_NO_HEAP_FAST_PATH"] = fastPath ? null : "1" };
        var run = MemcheckLauncher.Run(["--delay-frees", delayFrees, "--stats", "--", CaseBinaries.Get("delay_frees")], [], environment);
        string context = $"{run.CommandLine}\n{run.StderrText}";

        Assert.True(run.ExitCode == 0, context);
        Assert.Equal(expected, run.StdoutText);
        Assert.True(fastPath ? Count(run.StderrText, "in native code") >= 8 : Count(run.StderrText, "in native code") == 0, context);
        Assert.Contains("NO ERRORS FOUND", run.StderrText);
    }

    private static MemcheckReport Run(string program, bool fastPath)
    {
        string json = Path.Combine(Scratch.NewDirectory("heap-fast"), "report.json");
        var environment = new Dictionary<string, string?> { ["MEMCHECK_NO_HEAP_FAST_PATH"] = fastPath ? null : "1" };
        var run = MemcheckLauncher.Run(["--tool", "memcheck", "--json", json, "--stats", "--leak-check=full", "--", program], [], environment);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        return new MemcheckReport(run, document.RootElement.Clone());
    }

    private static long Count(string stderr, string name)
    {
        Match m = Regex.Match(stderr, $@"^memcheck: +{Regex.Escape(name)} +([0-9]+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no '{name}' line in\n{stderr}");
        return long.Parse(m.Groups[1].Value);
    }
}
