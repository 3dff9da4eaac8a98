using System.Text.Json;
using Checker.Reports;
using Xunit;
using static Checker.Tests.Reports.ReportSamples;

namespace Checker.Tests.Reports;

/// <summary>The JSON report against issue 3's schema: every field name, and the omissions.</summary>
public class JsonReportWriterTests
{
    private static readonly RunInfo Run = new("/abs/x", ["--flag", "c++ ä"], 4242, 1);

    private static string[] Names(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToArray();

    private static JsonDocument Report(ErrorCollector collector) =>
        JsonDocument.Parse(JsonReportWriter.Serialize(Run, collector.Errors, collector.Summary()));

    [Fact]
    public void TopLevelHasTheSchemaFields()
    {
        using JsonDocument json = Report(new ErrorCollector());
        JsonElement root = json.RootElement;

        Assert.Equal(["version", "program", "args", "pid", "exit_code", "errors", "summary"], Names(root));
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("/abs/x", root.GetProperty("program").GetString());
        Assert.Equal(["--flag", "c++ ä"], root.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(4242, root.GetProperty("pid").GetInt32());
        Assert.Equal(1, root.GetProperty("exit_code").GetInt32());
        Assert.Equal(0, root.GetProperty("errors").GetArrayLength());
        Assert.Contains("\"c++ ä\"", JsonReportWriter.Serialize(Run, [], new ErrorCollector().Summary())); // readable, not \u002B
    }

    [Fact]
    public void HeapAccessErrorHasAccessStackAndBlockButNoLeak()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x555555555149, 0x555555555200));
        collector.Add(Unaddressable(0x555555555149, 0x555555555200));
        using JsonDocument json = Report(collector);
        JsonElement error = Assert.Single(json.RootElement.GetProperty("errors").EnumerateArray());

        Assert.Equal(["id", "kind", "message", "count", "thread", "access", "stack", "block"], Names(error));
        Assert.Equal(1, error.GetProperty("id").GetInt32());
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        Assert.Equal("beyond heap bounds: writing 1 byte(s) at 0x5000a 0 byte(s) beyond a 10-byte block", error.GetProperty("message").GetString());
        Assert.Equal(2, error.GetProperty("count").GetInt32());
        Assert.Equal(4242, error.GetProperty("thread").GetInt32());

        JsonElement access = error.GetProperty("access");
        Assert.Equal(["type", "address", "size"], Names(access));
        Assert.Equal(("write", "0x5000a", 1), (access.GetProperty("type").GetString(), access.GetProperty("address").GetString(), access.GetProperty("size").GetInt32()));

        JsonElement frame = error.GetProperty("stack")[0];
        Assert.Equal(2, error.GetProperty("stack").GetArrayLength());
        Assert.Equal(["pc", "module", "offset", "function", "file", "line"], Names(frame));
        Assert.Equal("0x555555555149", frame.GetProperty("pc").GetString());
        Assert.Equal("/abs/x", frame.GetProperty("module").GetString());
        Assert.Equal("0x5149", frame.GetProperty("offset").GetString());
        Assert.Equal("main", frame.GetProperty("function").GetString());
        Assert.Equal("/abs/x.c", frame.GetProperty("file").GetString());
        Assert.Equal(7, frame.GetProperty("line").GetInt32());

        JsonElement block = error.GetProperty("block");
        Assert.Equal(["address", "size", "state", "alloc_stack"], Names(block)); // not freed: no free_stack
        Assert.Equal(("0x50000", 10, "allocated"), (block.GetProperty("address").GetString(), block.GetProperty("size").GetInt32(), block.GetProperty("state").GetString()));
        JsonElement malloc = block.GetProperty("alloc_stack")[0];
        Assert.Equal(["pc", "module", "offset", "function"], Names(malloc)); // no line information
        Assert.Equal("0x98942", malloc.GetProperty("offset").GetString());
    }

    [Fact]
    public void FreedBlockHasFreeStackAndUnknownFramesHaveOnlyAPc()
    {
        var record = new ErrorRecord(
            ErrorKind.InvalidHeapArgument, "free 0x50000: double free", Thread: 1,
            Stack: [new ReportFrame(0x7f0012345678)],
            Block: new BlockInfo(0x50000, 32, BlockState.Freed, [Frame(0x1111, "make", 3)], [Frame(0x2222, "drop", 4)]));
        var collector = new ErrorCollector();
        collector.Add(record);
        using JsonDocument json = Report(collector);
        JsonElement error = json.RootElement.GetProperty("errors")[0];

        Assert.Equal(["id", "kind", "message", "count", "thread", "stack", "block"], Names(error)); // no access, no leak
        Assert.Equal("invalid-heap-arg", error.GetProperty("kind").GetString());
        Assert.Equal("free 0x50000: double free", error.GetProperty("message").GetString());
        Assert.Equal(["pc"], Names(error.GetProperty("stack")[0]));
        JsonElement block = error.GetProperty("block");
        Assert.Equal(["address", "size", "state", "alloc_stack", "free_stack"], Names(block));
        Assert.Equal("freed", block.GetProperty("state").GetString());
        Assert.Equal("drop", block.GetProperty("free_stack")[0].GetProperty("function").GetString());
    }

    /// <summary>
    /// A frame in memcheck's replacement of a libc routine: the routine's name and "replaced", none of
    /// memcheck's module, offset, file or line; the text shows it the same way.
    /// </summary>
    [Fact]
    public void OverlapWithAReplacedFrameNamesOnlyTheRoutine()
    {
        var replaced = new ReportFrame(0x10051794, "/opt/memcheck/libchecker-replace.so", 0x1794, "memcpy", "/src/string_replacements.c", 210, Replaced: true);
        var record = new ErrorRecord(ErrorKind.Overlap, "source and destination overlap in memcpy(0x1001, 0x1000, 21)", Thread: 1,
            Stack: [replaced, Frame(0x555555555149, "main", 7)]);
        var collector = new ErrorCollector();
        collector.Add(record);
        using JsonDocument json = Report(collector);
        JsonElement error = json.RootElement.GetProperty("errors")[0];

        Assert.Equal("overlap", error.GetProperty("kind").GetString());
        Assert.Equal("source and destination overlap in memcpy(0x1001, 0x1000, 21)", error.GetProperty("message").GetString());
        JsonElement top = error.GetProperty("stack")[0];
        Assert.Equal(["pc", "function", "replaced"], Names(top));
        Assert.Equal("memcpy", top.GetProperty("function").GetString());
        Assert.True(top.GetProperty("replaced").GetBoolean());
        Assert.Equal(["pc", "module", "offset", "function", "file", "line"], Names(error.GetProperty("stack")[1]));
        Assert.Equal(1, json.RootElement.GetProperty("summary").GetProperty("kinds").GetProperty("overlap").GetProperty("total").GetInt32());
        Assert.Equal("memcpy (replaced by memcheck)", replaced.ToString());

        var text = new StringWriter();
        new TextReportWriter(text).WriteError(collector.Errors[0]);
        Assert.Contains("memcheck: Error #1: OVERLAP: source and destination overlap in memcpy(0x1001, 0x1000, 21)\n", text.ToString());
        Assert.Contains("memcheck: #0 memcpy (replaced by memcheck)\n", text.ToString());
        Assert.DoesNotContain("string_replacements.c", text.ToString());
    }

    [Fact]
    public void LeakHasLeakFieldsAndSummaryCountsEveryKind()
    {
        var collector = new ErrorCollector();
        collector.Add(Leak(16, 0x1149));
        collector.Add(Leak(16, 0x1149));
        collector.Add(Unaddressable(0x2000));
        collector.Add(new ErrorRecord(ErrorKind.PossibleLeak, "8 bytes", 1, [Frame(0x3000, "f", 1)], Leak: new LeakInfo(8, 1, Indirect: true, IndirectBytes: 4)));
        using JsonDocument json = Report(collector);
        JsonElement[] errors = json.RootElement.GetProperty("errors").EnumerateArray().ToArray();

        Assert.Equal(["id", "kind", "message", "count", "thread", "stack", "leak"], Names(errors[0]));
        JsonElement leak = errors[0].GetProperty("leak");
        Assert.Equal(["bytes", "blocks", "indirect", "indirect_bytes", "indirect_blocks"], Names(leak));
        Assert.Equal((16, 1, false, 0), (leak.GetProperty("bytes").GetInt32(), leak.GetProperty("blocks").GetInt32(), leak.GetProperty("indirect").GetBoolean(), leak.GetProperty("indirect_bytes").GetInt32()));
        Assert.True(errors[2].GetProperty("leak").GetProperty("indirect").GetBoolean());
        Assert.Equal(["leak", "unaddressable", "possible-leak"], errors.Select(e => e.GetProperty("kind").GetString()));

        JsonElement summary = json.RootElement.GetProperty("summary");
        Assert.Equal(["unique", "total", "kinds"], Names(summary));
        Assert.Equal((3, 4), (summary.GetProperty("unique").GetInt32(), summary.GetProperty("total").GetInt32()));
        JsonElement kinds = summary.GetProperty("kinds");
        Assert.Equal(["unaddressable", "uninitialized", "invalid-heap-arg", "leak", "possible-leak", "overlap", "fishy-argument"], Names(kinds));
        Assert.Equal(["unique", "total"], Names(kinds.GetProperty("unaddressable")));
        Assert.Equal(["unique", "total", "bytes"], Names(kinds.GetProperty("leak")));
        Assert.Equal((1, 2, 32), (kinds.GetProperty("leak").GetProperty("unique").GetInt32(), kinds.GetProperty("leak").GetProperty("total").GetInt32(), kinds.GetProperty("leak").GetProperty("bytes").GetInt32()));
        Assert.Equal(0, kinds.GetProperty("uninitialized").GetProperty("total").GetInt32());
    }

    [Fact]
    public void SummaryKindsAreTheCheckedOnesSoAMissingCheckIsNotAZero()
    {
        var collector = new ErrorCollector(checkedKinds: [ErrorKind.Unaddressable, ErrorKind.InvalidHeapArgument]);
        collector.Add(Unaddressable(0x2000));
        using JsonDocument json = Report(collector);

        JsonElement kinds = json.RootElement.GetProperty("summary").GetProperty("kinds");
        Assert.Equal(["unaddressable", "invalid-heap-arg"], Names(kinds));
        Assert.Equal(0, kinds.GetProperty("invalid-heap-arg").GetProperty("total").GetInt32());
    }

    [Fact]
    public void WriteFileReplacesTheFileWholeAndLeavesNoTemporary()
    {
        string directory = Directory.CreateTempSubdirectory("checker-json-").FullName;
        try
        {
            string path = Path.Combine(directory, "report.json");
            File.WriteAllText(path, "old");
            var collector = new ErrorCollector();
            collector.Add(Leak(16, 0x1149));
            JsonReportWriter.WriteFile(path, Run, collector);

            Assert.Equal([path], Directory.GetFiles(directory));
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(path));
            Assert.Equal("leak", json.RootElement.GetProperty("errors")[0].GetProperty("kind").GetString());
            Assert.Equal(
                JsonReportWriter.Serialize(Run, collector.Errors, collector.Summary()),
                File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void WriteFileToAMissingDirectoryThrowsAndLeavesNothing()
    {
        string path = Path.Combine(Path.GetTempPath(), $"checker-missing-{Guid.NewGuid():N}", "report.json");
        Assert.ThrowsAny<IOException>(() => JsonReportWriter.WriteFile(path, Run, new ErrorCollector()));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }
}
