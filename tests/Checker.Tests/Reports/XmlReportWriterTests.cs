using System.Xml.Linq;
using Checker.Reports;
using Checker.Reports.Xml;
using Xunit;
using static Checker.Tests.Reports.ReportSamples;

namespace Checker.Tests.Reports;

/// <summary>The --xml report from records: Valgrind's protocol 4 shape, its wording, escaping, counts.</summary>
public class XmlReportWriterTests
{
    private static readonly RunInfo Run = new("/abs/x", ["--flag", "c++ ä"], 4242, 1);
    private static readonly XmlRunDetails Details = new("/opt/memcheck", ["--leak-check=full"], 4200, "1.0", TimeSpan.Zero, TimeSpan.FromMilliseconds(61_234));

    private static XDocument Write(RunInfo run, ErrorCollector collector)
    {
        using var stream = new MemoryStream();
        XmlReportWriter.Write(stream, run, Details, collector.Errors, collector.UsedSuppressions);
        string text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.StartsWith("<?xml version=\"1.0\"?>\n", text);
        return XDocument.Parse(text);
    }

    private static string[] Names(XElement element) => element.Elements().Select(e => e.Name.LocalName).ToArray();

    private static ErrorRecord Leak(ulong direct, ulong indirect, string leakKind, params ulong[] pcs) =>
        new(leakKind == "possible" ? ErrorKind.PossibleLeak : ErrorKind.Leak, "leak", 1, Stack(pcs),
            Leak: new LeakInfo(direct + indirect, 1, false, indirect, indirect > 0 ? 1UL : 0)) { Valgrind = ValgrindKind.Leak(leakKind) };

    [Fact]
    public void TopLevelIsTheProtocolsSequence_LeaksAfterFinished()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x1149) with { Valgrind = ValgrindKind.Access(write: true, 1) });
        collector.Add(Unaddressable(0x1149) with { Valgrind = ValgrindKind.Access(write: true, 1) });
        collector.Add(Leak(32, 32, "definite", 0x2000));
        XDocument xml = Write(Run, collector);

        Assert.Empty(ValgrindXmlShape.Problems(xml));
        Assert.Equal(["protocolversion", "protocoltool", "preamble", "pid", "ppid", "tool", "args", "status", "error", "status", "error", "errorcounts", "suppcounts"],
            Names(xml.Root!));
        Assert.Equal("4242", xml.Root!.Element("pid")!.Value);
        Assert.Equal("4200", xml.Root.Element("ppid")!.Value);
        XElement args = xml.Root.Element("args")!;
        Assert.Equal(["/opt/memcheck", "--leak-check=full"], args.Element("vargv")!.Elements().Select(e => e.Value));
        Assert.Equal(["/abs/x", "--flag", "c++ ä"], args.Element("argv")!.Elements().Select(e => e.Value));
        Assert.Equal(["RUNNING", "FINISHED"], xml.Root.Elements("status").Select(s => s.Element("state")!.Value));
        Assert.Equal("00:00:01:01.234", xml.Root.Elements("status").Last().Element("time")!.Value);

        // The leak is not counted in errorcounts (Valgrind's neither); the access happened twice.
        XElement pair = Assert.Single(xml.Root.Element("errorcounts")!.Elements("pair"));
        Assert.Equal(["2", "0x0"], pair.Elements().Select(e => e.Value));
        XElement leak = xml.Root.Elements("error").Last();
        Assert.Equal(["unique", "tid", "kind", "xwhat", "stack"], Names(leak));
        Assert.Equal("0x1", leak.Element("unique")!.Value);
        Assert.Equal("Leak_DefinitelyLost", leak.Element("kind")!.Value);
        Assert.Equal("64 (32 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss record 1 of 1", leak.Element("xwhat")!.Element("text")!.Value);
        Assert.Equal(["64", "1"], new[] { "leakedbytes", "leakedblocks" }.Select(n => leak.Element("xwhat")!.Element(n)!.Value));
    }

    [Fact]
    public void AccessErrorHasValgrindsWhatAuxwhatAndTheBlocksStack()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x555555555149, 0x555555555200) with { Valgrind = ValgrindKind.Access(write: true, 1) });
        XElement error = Write(Run, collector).Root!.Element("error")!;

        Assert.Equal(["unique", "tid", "kind", "what", "stack", "auxwhat", "stack"], Names(error));
        Assert.Equal("InvalidWrite", error.Element("kind")!.Value);
        Assert.Equal("4242", error.Element("tid")!.Value);
        Assert.Equal("Invalid write of size 1", error.Element("what")!.Value);
        Assert.Equal("Address 0x5000a is 0 bytes after a block of size 10 alloc'd", error.Element("auxwhat")!.Value);
        XElement frame = error.Element("stack")!.Elements("frame").First();
        Assert.Equal(["ip", "obj", "fn", "dir", "file", "line"], Names(frame));
        Assert.Equal(["0x555555555149", Exe, "main", "/abs", "x.c", "7"], frame.Elements().Select(e => e.Value));
        // The allocation's stack: malloc without a source line has no dir, file or line.
        XElement[] alloc = error.Elements("stack").Last().Elements("frame").ToArray();
        Assert.Equal(["ip", "obj", "fn"], Names(alloc[0]));
        Assert.Equal("malloc", alloc[0].Element("fn")!.Value);
    }

    /// <summary>Each kind's wording from a record shaped as detection emits it.</summary>
    public static TheoryData<string, ErrorRecord, string, string[]> Wordings()
    {
        ReportFrame[] alloc = [Frame(0x1100, "main", 3)];
        ReportFrame[] free = [Frame(0x1200, "main", 4)];
        var freed = new BlockInfo(0x5000, 40, BlockState.Freed, alloc, free);
        var live = new BlockInfo(0x5000, 32, BlockState.Allocated, alloc);
        return new()
        {
            { "use after free", new ErrorRecord(ErrorKind.Unaddressable, "m", 1, Stack(0x1300), "of freed memory", new AccessInfo(AccessType.Read, 0x5008, 4), freed) { Valgrind = ValgrindKind.Access(false, 4) },
                "Invalid read of size 4", ["Address 0x5008 is 8 bytes inside a block of size 40 free'd", "Block was alloc'd at"] },
            { "underflow", new ErrorRecord(ErrorKind.Unaddressable, "m", 1, Stack(0x1300), "beyond heap bounds", new AccessInfo(AccessType.Read, 0x4fff, 1), live) { Valgrind = ValgrindKind.Access(false, 1) },
                "Invalid read of size 1", ["Address 0x4fff is 1 bytes before a block of size 32 alloc'd"] },
            { "null", new ErrorRecord(ErrorKind.Unaddressable, "m", 1, Stack(0x1300), "not mapped", new AccessInfo(AccessType.Write, 0, 8)) { Valgrind = ValgrindKind.Access(true, 8) },
                "Invalid write of size 8", ["Address 0x0 is not stack'd, malloc'd or (recently) free'd"] },
            { "below sp", new ErrorRecord(ErrorKind.Unaddressable, "m", 2, Stack(0x1300), "beyond top of stack", new AccessInfo(AccessType.Read, 0x7ff0, 1)) { Valgrind = ValgrindKind.Access(false, 1) },
                "Invalid read of size 1", ["Address 0x7ff0 is on thread 2's stack"] },
            { "jump", new ErrorRecord(ErrorKind.Unaddressable, "m", 1, Stack(0x1300), null, new AccessInfo(AccessType.Execute, 0x10, 1)) { Valgrind = ValgrindKind.Jump },
                "Jump to the invalid address stated on the next line", ["Address 0x10 is not stack'd, malloc'd or (recently) free'd"] },
            { "interior free", new ErrorRecord(ErrorKind.InvalidHeapArgument, "m", 1, Stack(0x1300), Block: live) { Valgrind = ValgrindKind.InvalidFree, Address = 0x5008 },
                "Invalid free() / delete / delete[] / realloc()", ["Address 0x5008 is 8 bytes inside a block of size 32 alloc'd"] },
            { "double free", new ErrorRecord(ErrorKind.InvalidHeapArgument, "m", 1, Stack(0x1300), Block: freed) { Valgrind = ValgrindKind.InvalidFree, Address = 0x5000 },
                "Invalid free() / delete / delete[] / realloc()", ["Address 0x5000 is 0 bytes inside a block of size 40 free'd", "Block was alloc'd at"] },
            { "not heap", new ErrorRecord(ErrorKind.InvalidHeapArgument, "m", 1, Stack(0x1300)) { Valgrind = ValgrindKind.InvalidFree, Address = 0x7ff0 },
                "Invalid free() / delete / delete[] / realloc()", ["Address 0x7ff0 is not in any heap block"] },
            { "mismatch", new ErrorRecord(ErrorKind.InvalidHeapArgument, "m", 1, Stack(0x1300), Block: live) { Valgrind = ValgrindKind.MismatchedFree, Address = 0x5000 },
                "Mismatched free() / delete / delete []", ["Address 0x5000 is 0 bytes inside a block of size 32 alloc'd"] },
            { "condition", new ErrorRecord(ErrorKind.Uninitialized, "m", 1, Stack(0x1300)) { Valgrind = ValgrindKind.Condition },
                "Conditional jump or move depends on uninitialised value(s)", [] },
            { "value with origin", new ErrorRecord(ErrorKind.Uninitialized, "m", 1, Stack(0x1300), Block: live) { Valgrind = ValgrindKind.Value(8) },
                "Use of uninitialised value of size 8", ["Uninitialised value was created by a heap allocation"] },
            { "param memory", new ErrorRecord(ErrorKind.Uninitialized, "m", 1, Stack(0x1300)) { Valgrind = ValgrindKind.SyscallParam("write(buf)"), Address = 0x5007, AddressBlock = live },
                "Syscall param write(buf) points to uninitialised byte(s)", ["Address 0x5007 is 7 bytes inside a block of size 32 alloc'd"] },
            { "param register", new ErrorRecord(ErrorKind.Uninitialized, "m", 1, Stack(0x1300)) { Valgrind = ValgrindKind.SyscallParam("write(count)") },
                "Syscall param write(count) contains uninitialised byte(s)", [] },
            { "param unaddressable", new ErrorRecord(ErrorKind.Unaddressable, "m", 1, Stack(0x1300), "of freed memory", new AccessInfo(AccessType.Read, 0x5000, 16), freed) { Valgrind = ValgrindKind.SyscallParam("write(buf)") },
                "Syscall param write(buf) points to unaddressable byte(s)", ["Address 0x5000 is 0 bytes inside a block of size 40 free'd", "Block was alloc'd at"] },
            { "overlap", new ErrorRecord(ErrorKind.Overlap, "source and destination overlap in memcpy(0x10, 0x14, 8)", 1, Stack(0x1300)) { Valgrind = ValgrindKind.Overlap },
                "Source and destination overlap in memcpy(0x10, 0x14, 8)", [] },
        };
    }

    [Theory]
    [MemberData(nameof(Wordings))]
    public void EachKindIsWordedAsValgrind(string name, ErrorRecord record, string what, string[] auxwhat)
    {
        var collector = new ErrorCollector();
        collector.Add(record);
        XDocument xml = Write(Run, collector);
        Assert.Empty(ValgrindXmlShape.Problems(xml));
        XElement error = xml.Root!.Element("error")!;
        Assert.True(what == error.Element("what")!.Value, $"{name}: {error.Element("what")!.Value}");
        Assert.Equal(auxwhat, error.Elements("auxwhat").Select(a => a.Value));
        // Each auxwhat that describes a block is followed by that block's stack.
        foreach (XElement line in error.Elements("auxwhat").Where(a => a.Value.Contains("a block of size") || a.Value.StartsWith("Block was") || a.Value.StartsWith("Uninitialised")))
            Assert.Equal("stack", (line.NextNode as XElement)?.Name.LocalName);
    }

    [Fact]
    public void TextIsEscapedAndCharactersXmlCannotHoldAreReplaced()
    {
        var run = new RunInfo("/abs/a<b>&c", ["x\u0001y", "\"quoted\" 'single'"], 1, 0);
        var collector = new ErrorCollector();
        ReportFrame frame = new(0x1000, "/abs/a<b>&c", 0x1000, "operator<<(std::ostream&, int)", "/src/d&r/f<1>.c", 9);
        collector.Add(new ErrorRecord(ErrorKind.Uninitialized, "m", 1, [frame]) { Valgrind = ValgrindKind.Condition });
        XDocument xml = Write(run, collector);

        Assert.Empty(ValgrindXmlShape.Problems(xml));
        Assert.Equal(["/abs/a<b>&c", "x\uFFFDy", "\"quoted\" 'single'"], xml.Root!.Element("args")!.Element("argv")!.Elements().Select(e => e.Value));
        XElement parsed = xml.Root.Element("error")!.Element("stack")!.Element("frame")!;
        Assert.Equal(["0x1000", "/abs/a<b>&c", "operator<<(std::ostream&, int)", "/src/d&r", "f<1>.c", "9"], parsed.Elements().Select(e => e.Value));
    }

    [Fact]
    public void DeathIsAFatalSignalBeforeFinished_SuppressionsAreCounted()
    {
        var collector = new ErrorCollector { Suppression = record => record.Kind == ErrorKind.Overlap ? "libc-noise" : null };
        collector.Add(new ErrorRecord(ErrorKind.Overlap, "source and destination overlap in memcpy", 1, Stack(0x10)) { Valgrind = ValgrindKind.Overlap });
        collector.Add(new ErrorRecord(ErrorKind.Overlap, "source and destination overlap in memcpy", 1, Stack(0x10)) { Valgrind = ValgrindKind.Overlap });
        collector.Add(new ErrorRecord(ErrorKind.Unaddressable, "m", 3, Stack(0x1186), null, new AccessInfo(AccessType.Read, 0, 4)) { Valgrind = ValgrindKind.Access(false, 4) });
        var death = new DeathInfo(11, "SIGSEGV", "the program was killed by SIGSEGV", 0x1186, 0, Stack(0x1186), ErrorId: 1);
        XDocument xml = Write(Run with { ExitCode = 139, Death = death }, collector);

        Assert.Empty(ValgrindXmlShape.Problems(xml));
        Assert.Equal(["error", "fatal_signal", "status"], Names(xml.Root!).Skip(8).Take(3));
        XElement signal = xml.Root!.Element("fatal_signal")!;
        Assert.Equal(["tid", "signo", "signame", "event", "siaddr", "stack"], Names(signal));
        Assert.Equal(["3", "11", "SIGSEGV"], Names(signal).Take(3).Select(n => signal.Element(n)!.Value));
        Assert.Equal("0x0", signal.Element("siaddr")!.Value);
        XElement pair = Assert.Single(xml.Root.Element("suppcounts")!.Elements("pair"));
        Assert.Equal(["2", "libc-noise"], pair.Elements().Select(e => e.Value));
    }

    [Fact]
    public void FileIsReplacedWhole()
    {
        string directory = EndToEnd.Scratch.NewDirectory("xml-writer");
        string path = Path.Combine(directory, "report.xml");
        File.WriteAllText(path, "old");
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x1149) with { Valgrind = ValgrindKind.Access(true, 1) });
        XmlReportWriter.WriteFile(path, Run, Details, collector);

        Assert.Empty(ValgrindXmlShape.Problems(XDocument.Load(path)));
        Assert.Equal(["report.xml"], Directory.GetFiles(directory).Select(Path.GetFileName));
    }
}
