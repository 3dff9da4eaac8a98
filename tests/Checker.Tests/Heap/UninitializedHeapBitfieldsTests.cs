using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Partly defined heap bytes (bitfields) loaded and stored by the shadow move routine, their
/// undefined bits in the heap's table (HeapVBits), against the C# propagator (--track-origins=yes:
/// every move in C#) on the same program: the same two errors at the same lines, as Valgrind gives,
/// and the fields that were set read clean after a whole-record copy. Without the C# exits: a
/// handful of propagation exits for 20,000 records' copies and reads, where C# takes ~240,000.
/// </summary>
public class UninitializedHeapBitfieldsTests
{
    private const string Source = "uninit_heap_bitfields.c";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PartlyDefinedHeapBytes_KeepTheirUndefinedBitsThroughCopies(bool trackOrigins)
    {
        string json = Path.Combine(Scratch.NewDirectory("heap-bitfields"), "report.json");
        var run = MemcheckLauncher.Run(["--tool", "memcheck", "--stats=yes", $"--track-origins={(trackOrigins ? "yes" : "no")}", "--json", json, "--",
            CaseBinaries.Get("uninit_heap_bitfields")]);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        var report = new MemcheckReport(run, document.RootElement.Clone());
        string context = report.Context;
        Assert.Equal("sum 400070000\ndefined fields read clean\n", run.StdoutText);
        Assert.Equal(0, run.ExitCode);
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 2, $"expected 2 errors, got {errors.Length}\n{context}");
        string[] markers = ["LINE_FLAGS", "LINE_HIGH"];
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Contains("a conditional jump depends on undefined flags", errors[i].GetProperty("message").GetString());
            AssertFrame(errors[i].GetProperty("stack")[0], "main", Source, Line(Source, markers[i]), context);
        }
        var exits = Regex.Match(run.StderrText, @"propagation exits +(\d+)");
        Assert.True(exits.Success, context);
        int count = int.Parse(exits.Groups[1].Value);
        if (trackOrigins) Assert.True(count > 20000, $"origins are C#'s: every partly defined move exits ({count})\n{context}");
        else Assert.True(count < 100, $"partly defined heap bytes moved in generated code: {count} propagation exits\n{context}");
    }
}
