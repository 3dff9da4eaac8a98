using System.Text.Json;
using Checker.Tests.Heap;
using Checker.Tests.Reports;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// <c>--sarif FILE</c> on real programs of each error kind (heap overflow, use after free,
/// uninitialized values, invalid frees, leaks, a crash), run from the repository's root: the file
/// passes Microsoft's SARIF validator (the specification's rules and GitHub code scanning's) with
/// no error, each result has the rule of the JSON report's kind, its location is the innermost
/// frame in the case's own source (relative to the working directory, at the marked line), its
/// code flow is the JSON report's whole stack, and its fingerprint does not change from run to
/// run, checkout to checkout, or when lines are added above the error.
/// </summary>
public class SarifReportTests
{
    /// <summary>A run with both --json and --sarif; the SARIF's single run and the JSON's errors.</summary>
    private sealed record SarifRun(RunResult Run, JsonElement Sarif, JsonElement[] JsonErrors, string Path)
    {
        public JsonElement SarifRoot => Sarif.GetProperty("runs")[0];
        public JsonElement[] Results => SarifRoot.GetProperty("results").EnumerateArray().ToArray();
        public string Context => $"{Run.CommandLine}\nstderr:\n{Run.StderrText}";
    }

    private static SarifRun RunSarif(string program, string[] options, string[] arguments, string? workingDirectory = null)
    {
        string directory = Scratch.NewDirectory("sarif");
        string sarif = System.IO.Path.Combine(directory, "report.sarif"), json = System.IO.Path.Combine(directory, "report.json");
        RunResult run = MemcheckLauncher.Run(["--sarif", sarif, "--json", json, .. options, "--", program, .. arguments],
            "line\n"u8.ToArray(), null, workingDirectory ?? RepoPaths.Root);
        Assert.True(File.Exists(sarif), $"no SARIF report\n{run.CommandLine}\n{run.StderrText}");
        using JsonDocument sarifDocument = JsonDocument.Parse(File.ReadAllBytes(sarif));
        using JsonDocument jsonDocument = JsonDocument.Parse(File.ReadAllBytes(json));
        return new SarifRun(run, sarifDocument.RootElement.Clone(),
            jsonDocument.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.Clone()).ToArray(), sarif);
    }

    /// <summary>
    /// Validates the file and checks what every report must have: the schema and version, one rule
    /// per kind, and each result against the JSON report's error of the same number: the rule of its
    /// kind, the count, and a code flow that is its whole stack, outermost call first.
    /// </summary>
    private static void AssertReport(SarifRun report)
    {
        SarifValidator.AssertValid(report.Path);
        Assert.Equal("https://json.schemastore.org/sarif-2.1.0.json", report.Sarif.GetProperty("$schema").GetString());
        Assert.Equal("2.1.0", report.Sarif.GetProperty("version").GetString());
        JsonElement driver = report.SarifRoot.GetProperty("tool").GetProperty("driver");
        Assert.Equal("memcheck", driver.GetProperty("name").GetString());
        string[] rules = driver.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(["unaddressable", "uninitialized", "invalid-heap-arg", "leak", "possible-leak", "overlap", "fishy-argument"], rules);

        JsonElement[] results = report.Results;
        Assert.True(results.Length == report.JsonErrors.Length,
            $"{results.Length} SARIF results for {report.JsonErrors.Length} JSON errors: {string.Join(", ", results.Select(Describe))}\n{report.Context}");
        for (int i = 0; i < results.Length; i++)
        {
            JsonElement result = results[i], error = report.JsonErrors[i];
            string kind = error.GetProperty("kind").GetString()!;
            Assert.Equal(kind, result.GetProperty("ruleId").GetString());
            Assert.Equal(kind, rules[result.GetProperty("ruleIndex").GetInt32()]);
            Assert.Equal(error.GetProperty("count").GetInt32(), result.GetProperty("occurrenceCount").GetInt32());
            Assert.Equal(FlowOf(error.GetProperty("stack")), FlowOf(result.GetProperty("codeFlows")[0]));
        }
    }

    /// <summary>A stack, outermost first, as "function file:line" (file:line only with an absolute source path: a library's relative DWARF path is given as its module).</summary>
    private static string[] FlowOf(JsonElement stackOrCodeFlow)
    {
        if (stackOrCodeFlow.ValueKind == JsonValueKind.Array)
        {
            return stackOrCodeFlow.EnumerateArray().Reverse().Select(frame =>
                FunctionOf(frame) + (frame.TryGetProperty("line", out JsonElement line) && frame.TryGetProperty("file", out JsonElement file) && file.GetString()!.StartsWith('/')
                    ? $" {Relative(file.GetString()!)}:{line.GetInt32()}"
                    : "")).ToArray();
        }
        JsonElement[] flows = stackOrCodeFlow.GetProperty("threadFlows").EnumerateArray().ToArray();
        Assert.Single(flows);
        return flows[0].GetProperty("locations").EnumerateArray().Select((step, depth) =>
        {
            Assert.Equal(depth, step.GetProperty("nestingLevel").GetInt32());
            JsonElement location = step.GetProperty("location");
            string function = location.TryGetProperty("logicalLocations", out JsonElement logical) ? logical[0].GetProperty("name").GetString()! : "??";
            return location.TryGetProperty("physicalLocation", out JsonElement physical) && physical.TryGetProperty("region", out JsonElement region)
                ? $"{function} {physical.GetProperty("artifactLocation").GetProperty("uri").GetString()}:{region.GetProperty("startLine").GetInt32()}"
                : function;
        }).ToArray();
    }

    private static string Relative(string file) =>
        file.StartsWith(RepoPaths.Root + "/", StringComparison.Ordinal) ? file[(RepoPaths.Root.Length + 1)..] : "file://" + file;

    private static string Describe(JsonElement result) => $"{result.GetProperty("ruleId").GetString()} at {Where(result.GetProperty("locations")[0])}";

    /// <summary>A location as "uri:line" (uri as written), with its uriBaseId in brackets.</summary>
    private static string Where(JsonElement location)
    {
        JsonElement physical = location.GetProperty("physicalLocation");
        JsonElement artifact = physical.GetProperty("artifactLocation");
        string baseId = artifact.TryGetProperty("uriBaseId", out JsonElement b) ? $"[{b.GetString()}]" : "";
        string line = physical.TryGetProperty("region", out JsonElement region) ? $":{region.GetProperty("startLine").GetInt32()}" : "";
        return $"{baseId}{artifact.GetProperty("uri").GetString()}{line}";
    }

    /// <summary>The result's location is <paramref name="function"/> at the marked line of tests/cases/<paramref name="source"/>, relative to the repository root.</summary>
    private static void AssertAt(JsonElement location, string function, string source, string marker, string context)
    {
        string expected = $"[SRCROOT]tests/cases/{source}:{Line(source, marker)}";
        Assert.True(Where(location) == expected, $"expected {expected}, got {Where(location)}\n{context}");
        Assert.Equal(function, location.GetProperty("logicalLocations")[0].GetProperty("name").GetString());
    }

    private static string Fingerprint(JsonElement result) => result.GetProperty("partialFingerprints").GetProperty("memcheckStackHash/v1").GetString()!;

    [Fact]
    public void HeapOverflow_FourResultsAtTheirLines_BlockAllocationRelated()
    {
        const string source = "heap_overflow_underflow.c";
        SarifRun report = RunSarif(CaseBinaries.Get("heap_overflow_underflow"), [], []);
        AssertReport(report);
        JsonElement[] results = report.Results;
        Assert.Equal(4, results.Length);
        string[] markers = ["LINE_READ_AFTER", "LINE_WRITE_AFTER", "LINE_READ_BEFORE", "LINE_WRITE_BEFORE"];
        for (int i = 0; i < markers.Length; i++)
        {
            Assert.Equal("error", results[i].GetProperty("level").GetString());
            Assert.StartsWith("UNADDRESSABLE ACCESS beyond heap bounds: ", results[i].GetProperty("message").GetProperty("text").GetString());
            AssertAt(results[i].GetProperty("locations")[0], "main", source, markers[i], report.Context);
            JsonElement allocated = Assert.Single(results[i].GetProperty("relatedLocations").EnumerateArray());
            AssertAt(allocated, "main", source, "LINE_ALLOC", report.Context);
            Assert.Equal("allocated", results[i].GetProperty("properties").GetProperty("blockState").GetString());
        }
        // Four errors on four lines: four fingerprints.
        Assert.Equal(4, results.Select(Fingerprint).Distinct().Count());
        Assert.Equal(0, report.SarifRoot.GetProperty("invocations")[0].GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public void UseAfterFree_AllocationAndFreeStacksAsFurtherCodeFlows()
    {
        const string source = "heap_use_after_free.c";
        SarifRun report = RunSarif(CaseBinaries.Get("heap_use_after_free"), [], []);
        AssertReport(report);
        JsonElement result = Assert.Single(report.Results);
        AssertAt(result.GetProperty("locations")[0], "main", source, "LINE_READ", report.Context);
        JsonElement[] related = result.GetProperty("relatedLocations").EnumerateArray().ToArray();
        Assert.Equal(2, related.Length);
        AssertAt(related[0], "main", source, "LINE_ALLOC", report.Context);
        AssertAt(related[1], "main", source, "LINE_FREE", report.Context);
        // The message links to both ([here](1), [here](2)).
        Assert.EndsWith("The block was allocated [here](1) and freed [here](2).", result.GetProperty("message").GetProperty("text").GetString());
        JsonElement block = report.JsonErrors[0].GetProperty("block");
        JsonElement[] flows = result.GetProperty("codeFlows").EnumerateArray().ToArray();
        Assert.Equal(3, flows.Length);
        Assert.Equal(FlowOf(block.GetProperty("alloc_stack")), FlowOf(flows[1]));
        Assert.Equal(FlowOf(block.GetProperty("free_stack")), FlowOf(flows[2]));
    }

    [Fact]
    public void UninitializedValues_LocatedInTheUserFunction_NotInLibc()
    {
        const string source = "uninit_uses.c";
        SarifRun report = RunSarif(CaseBinaries.Get("uninit_uses"), [], []);
        AssertReport(report);
        (string Marker, string Function)[] expected =
        [
            ("LINE_HEAP_BRANCH", "heap_value_in_a_branch"), ("LINE_INDEX", "array_index"), ("LINE_ARITH", "through_arithmetic_shift_and_call"),
            ("LINE_DOUBLE", "double_compared"), ("LINE_REALLOC", "realloc_growth"),
            // write's buffer: the innermost frame is libc's write, the result is at the program's call.
            ("LINE_WRITE", "write_with_holes"),
        ];
        JsonElement[] results = report.Results;
        Assert.True(results.Length == expected.Length, $"results: {string.Join(", ", results.Select(Describe))}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("uninitialized", results[i].GetProperty("ruleId").GetString());
            AssertAt(results[i].GetProperty("locations")[0], expected[i].Function, source, expected[i].Marker, report.Context);
        }
        string innermost = FunctionOf(report.JsonErrors[^1].GetProperty("stack")[0]);
        Assert.NotEqual("write_with_holes", innermost);
    }

    [Fact]
    public void InvalidFrees_LocatedAtTheInnermostUserFrame_WholeStackInTheFlow()
    {
        const string source = "heap_invalid_frees.c";
        SarifRun report = RunSarif(CaseBinaries.Get("heap_invalid_frees"), [], []);
        AssertReport(report);
        JsonElement[] results = report.Results;
        Assert.Equal(4, results.Length);
        Assert.All(results, r => Assert.Equal("invalid-heap-arg", r.GetProperty("ruleId").GetString()));
        // The double free happens in release(), called from main: the location is release's line,
        // the flow goes from main's call to it.
        AssertAt(results[0].GetProperty("locations")[0], "release", source, "LINE_RELEASE", report.Context);
        string[] flow = FlowOf(results[0].GetProperty("codeFlows")[0]);
        int call = Array.IndexOf(flow, $"main tests/cases/{source}:{Line(source, "LINE_DOUBLE")}");
        Assert.True(call >= 0 && flow[call + 1] == $"release tests/cases/{source}:{Line(source, "LINE_RELEASE")}",
            $"flow: {string.Join(" -> ", flow)}\n{report.Context}");
        AssertAt(results[1].GetProperty("locations")[0], "main", source, "LINE_STACK", report.Context);
        AssertAt(results[2].GetProperty("locations")[0], "main", source, "LINE_INTERIOR", report.Context);
        AssertAt(results[3].GetProperty("locations")[0], "main", source, "LINE_STALE", report.Context);
    }

    [Fact]
    public void Leaks_AtTheAllocation_BytesAndBlocksInProperties()
    {
        const string source = "leaks.c";
        SarifRun report = RunSarif(CaseBinaries.Get("leaks"), ["--leak-check=full"], []);
        AssertReport(report);
        JsonElement[] results = report.Results;
        Assert.Equal(["leak", "possible-leak"], results.Select(r => r.GetProperty("ruleId").GetString()).Order());
        JsonElement leak = results.Single(r => r.GetProperty("ruleId").GetString() == "leak");
        JsonElement possible = results.Single(r => r.GetProperty("ruleId").GetString() == "possible-leak");
        AssertAt(leak.GetProperty("locations")[0], "make", source, "LINE_LOST", report.Context);
        AssertAt(possible.GetProperty("locations")[0], "make", source, "LINE_INTERIOR", report.Context);
        Assert.Equal("error", leak.GetProperty("level").GetString());
        Assert.Equal("warning", possible.GetProperty("level").GetString());
        JsonElement properties = leak.GetProperty("properties");
        Assert.Equal((64, 1, 32), (properties.GetProperty("leakedBytes").GetInt32(), properties.GetProperty("leakedBlocks").GetInt32(),
            properties.GetProperty("indirectBytes").GetInt32()));
        Assert.Equal(100, possible.GetProperty("properties").GetProperty("leakedBytes").GetInt32());
    }

    [Fact]
    public void Crash_DeathInTheInvocation_FaultAtTheInnermostFrame()
    {
        const string source = "crash_kinds.c";
        SarifRun report = RunSarif(CaseBinaries.Get("crash_kinds"), [], ["deep"]);
        AssertReport(report);
        JsonElement result = Assert.Single(report.Results);
        Assert.Equal("unaddressable", result.GetProperty("ruleId").GetString());
        AssertAt(result.GetProperty("locations")[0], "level3", source, "LINE_LEVEL3", report.Context);
        string[] flow = FlowOf(result.GetProperty("codeFlows")[0]);
        string at(string function, string marker) => $"{function} tests/cases/{source}:{Line(source, marker)}";
        Assert.Equal([at("main", "LINE_MAIN_DEEP"), at("level1", "LINE_LEVEL1"), at("level2", "LINE_LEVEL2"), at("level3", "LINE_LEVEL3")], flow);

        JsonElement invocation = report.SarifRoot.GetProperty("invocations")[0];
        Assert.Equal("SIGSEGV", invocation.GetProperty("exitSignalName").GetString());
        Assert.Equal(11, invocation.GetProperty("exitSignalNumber").GetInt32());
        Assert.False(invocation.TryGetProperty("exitCode", out _));
        Assert.True(invocation.GetProperty("executionSuccessful").GetBoolean());
        JsonElement death = Assert.Single(invocation.GetProperty("toolExecutionNotifications").EnumerateArray());
        Assert.StartsWith("The program died of SIGSEGV", death.GetProperty("message").GetProperty("text").GetString());
        AssertAt(death.GetProperty("locations")[0], "level3", source, "LINE_LEVEL3", report.Context);
    }

    /// <summary>
    /// The same program in two checkouts (two directories, the second with three lines added at the
    /// top of the file), each run from its own directory, the first twice: the fingerprints of the
    /// four errors are the same in all three runs, while the lines and the absolute paths differ;
    /// within a run the four are all different. Run from elsewhere, the URIs are absolute file URIs.
    /// </summary>
    [Fact]
    public void Fingerprints_SameAcrossRunsCheckoutsAndShiftedLines_DifferentBetweenErrors()
    {
        const string source = "heap_invalid_frees.c";
        string text = File.ReadAllText(System.IO.Path.Combine(RepoPaths.Cases, source));
        string first = Checkout("checkout-a", text), second = Checkout("checkout-b", "/* a\n * b\n * c */\n" + text);

        SarifRun a1 = RunSarif(System.IO.Path.Combine(first, "program"), [], [], first);
        SarifRun a2 = RunSarif(System.IO.Path.Combine(first, "program"), [], [], first);
        SarifRun b = RunSarif(System.IO.Path.Combine(second, "program"), [], [], second);
        SarifValidator.AssertValid(b.Path);
        string[] fingerprints = a1.Results.Select(Fingerprint).ToArray();
        Assert.Equal(4, fingerprints.Distinct().Count());
        Assert.Equal(fingerprints, a2.Results.Select(Fingerprint));
        Assert.Equal(fingerprints, b.Results.Select(Fingerprint));
        for (int i = 0; i < fingerprints.Length; i++)
        {
            string here = Where(a1.Results[i].GetProperty("locations")[0]), there = Where(b.Results[i].GetProperty("locations")[0]);
            int line = int.Parse(here[(here.LastIndexOf(':') + 1)..]);
            Assert.Equal($"[SRCROOT]{source}:{line}", here);
            Assert.Equal($"[SRCROOT]{source}:{line + 3}", there);
        }
        Assert.Equal(new Uri(first + "/").AbsoluteUri, a1.SarifRoot.GetProperty("originalUriBaseIds").GetProperty("SRCROOT").GetProperty("uri").GetString());

        // From another directory: absolute URIs, no base id; the fingerprints stay the same.
        SarifRun elsewhere = RunSarif(System.IO.Path.Combine(first, "program"), [], [], Scratch.NewDirectory("elsewhere"));
        SarifValidator.AssertValid(elsewhere.Path);
        string where = Where(elsewhere.Results[0].GetProperty("locations")[0]);
        Assert.StartsWith($"file://{first}/{source}:", where);
        Assert.NotEqual(fingerprints, elsewhere.Results.Select(Fingerprint)); // the file is named by its absolute path then
    }

    /// <summary>A directory holding <paramref name="text"/> as heap_invalid_frees.c, compiled there with -g into "program".</summary>
    private static string Checkout(string name, string text)
    {
        string directory = Scratch.NewDirectory(name);
        string file = System.IO.Path.Combine(directory, "heap_invalid_frees.c");
        File.WriteAllText(file, text);
        RunResult gcc = ProcessRunner.Run("gcc", ["-O0", "-g", "-Wno-free-nonheap-object", "-o", System.IO.Path.Combine(directory, "program"), file],
            timeout: TimeSpan.FromSeconds(300));
        Assert.True(gcc.ExitCode == 0, $"{gcc.CommandLine}\n{gcc.StderrText}");
        return directory;
    }
}
