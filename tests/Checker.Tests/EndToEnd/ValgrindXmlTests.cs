using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Checker.Tests.Heap;
using Checker.Tests.Reports;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// <c>--xml FILE</c> end to end: real C programs under memcheck give Valgrind's XML (protocol 4)
/// that says what the JSON report of the same run says (kinds, stacks, counts), has the element
/// structure valgrind's own XML has for the same program (valgrind runs in the test), with the
/// same kinds at the same lines, and is whole and well-formed when the program crashes or is killed.
/// </summary>
public class ValgrindXmlTests
{
    /// <summary>A case, and the errors it must give: Valgrind's kind at the marked line of its innermost frame in the case's source.</summary>
    public static TheoryData<string, string, string[]> Cases() => new()
    {
        { "heap_overflow_underflow", "heap_overflow_underflow.c",
            ["InvalidRead LINE_READ_AFTER", "InvalidWrite LINE_WRITE_AFTER", "InvalidRead LINE_READ_BEFORE", "InvalidWrite LINE_WRITE_BEFORE"] },
        { "heap_use_after_free", "heap_use_after_free.c", ["InvalidRead LINE_READ"] },
        { "heap_invalid_frees", "heap_invalid_frees.c",
            ["InvalidFree LINE_RELEASE", "InvalidFree LINE_STACK", "InvalidFree LINE_INTERIOR", "InvalidFree LINE_STALE"] },
        { "heap_mismatch", "heap_mismatch.cpp", ["MismatchedFree LINE_DELETE", "MismatchedFree LINE_DELETE_ARRAY"] },
        { "uninit_uses", "uninit_uses.c",
            ["UninitCondition LINE_HEAP_BRANCH", "UninitValue LINE_INDEX", "UninitCondition LINE_ARITH", "UninitCondition LINE_DOUBLE",
             "UninitCondition LINE_REALLOC", "SyscallParam LINE_WRITE"] },
        { "syscall_params", "syscall_params.c",
            ["SyscallParam LINE_FREED_WRITE", "SyscallParam LINE_NULL_IOVEC", "SyscallParam LINE_FREED_IOVEC", "SyscallParam LINE_NULL_SOCKLEN",
             "SyscallParam LINE_NULL_EXECVE", "SyscallParam LINE_READ_PAST"] },
        { "leaks", "leaks.c", ["Leak_DefinitelyLost LINE_LOST", "Leak_PossiblyLost LINE_INTERIOR"] },
    };

    /// <summary>The XML kinds each JSON kind may be.</summary>
    private static readonly Dictionary<string, string[]> XmlKinds = new()
    {
        ["unaddressable"] = ["InvalidRead", "InvalidWrite", "InvalidJump", "SyscallParam"],
        ["uninitialized"] = ["UninitCondition", "UninitValue", "SyscallParam"],
        ["invalid-heap-arg"] = ["InvalidFree", "MismatchedFree"],
        ["leak"] = ["Leak_DefinitelyLost", "Leak_IndirectlyLost"],
        ["possible-leak"] = ["Leak_PossiblyLost"],
        ["overlap"] = ["Overlap"],
        ["fishy-argument"] = ["FishyValue"],
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void XmlSaysWhatTheJsonOfTheSameRunSays(string name, string source, string[] expected)
    {
        string directory = Scratch.NewDirectory("xml-json");
        string json = Path.Combine(directory, "report.json"), xml = Path.Combine(directory, "report.xml");
        RunResult run = MemcheckLauncher.Run(["--leak-check=full", "--json", json, "--xml", xml, "--", CaseBinaries.Get(name)], "line\n"u8.ToArray());
        string context = $"{run.CommandLine}\n{run.StderrText}";
        XDocument document = Load(xml, context);
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(json));

        Assert.Equal(Expected(source, expected), KindsAtLines(document, source));
        JsonElement[] errors = report.RootElement.GetProperty("errors").EnumerateArray().ToArray();
        XElement[] xmlErrors = document.Root!.Elements("error").ToArray();
        Assert.True(errors.Length == xmlErrors.Length, $"{errors.Length} JSON errors, {xmlErrors.Length} XML errors\n{context}");
        Dictionary<string, int> counts = document.Root.Element("errorcounts")!.Elements("pair")
            .ToDictionary(p => p.Element("unique")!.Value, p => int.Parse(p.Element("count")!.Value, CultureInfo.InvariantCulture));
        foreach (JsonElement error in errors)
        {
            int id = error.GetProperty("id").GetInt32();
            string unique = $"0x{id - 1:x}";
            XElement match = xmlErrors.SingleOrDefault(e => e.Element("unique")!.Value == unique)
                ?? throw new Xunit.Sdk.XunitException($"no XML error {unique} for JSON error {id}\n{context}");
            string kind = match.Element("kind")!.Value;
            Assert.True(XmlKinds[error.GetProperty("kind").GetString()!].Contains(kind), $"JSON error {id} is {error.GetProperty("kind")}, XML {kind}\n{context}");
            Assert.Equal(Frames(error.GetProperty("stack")), Frames(match.Element("stack")!));
            if (error.TryGetProperty("leak", out JsonElement leak))
            {
                Assert.Equal(leak.GetProperty("bytes").GetUInt64().ToString(CultureInfo.InvariantCulture), match.Element("xwhat")!.Element("leakedbytes")!.Value);
                Assert.Equal(leak.GetProperty("blocks").GetUInt64().ToString(CultureInfo.InvariantCulture), match.Element("xwhat")!.Element("leakedblocks")!.Value);
            }
            else
            {
                Assert.Equal(error.GetProperty("count").GetInt32(), counts[unique]);
            }
            if (error.TryGetProperty("block", out JsonElement block) && kind is not ("UninitCondition" or "UninitValue"))
            {
                // The block's allocation stack follows the auxwhat that describes it (after the free stack for a freed block).
                Assert.Equal(Frames(block.GetProperty("alloc_stack")), Frames(match.Elements("stack").Last()));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ElementStructureIsValgrinds(string name, string source, string[] expected)
    {
        string program = CaseBinaries.Get(name);
        (XDocument ours, string context) = Memcheck(program, "--leak-check=full");
        XDocument theirs = Valgrind(program);

        Assert.Equal(Expected(source, expected), KindsAtLines(theirs, source));
        AssertSameStructure(theirs, ours, source, context);
    }

    [Fact]
    public void CrashingProgram_LeavesACompleteXmlWithItsFatalSignal()
    {
        string program = CaseBinaries.Get("null_deref.O0");
        (XDocument ours, string context) = Memcheck(program, "--leak-check=full");
        XDocument theirs = Valgrind(program);

        XElement signal = ours.Root!.Element("fatal_signal") ?? throw new Xunit.Sdk.XunitException($"no fatal_signal\n{context}");
        Assert.Equal(["11", "SIGSEGV", "0x0"], new[] { "signo", "signame", "siaddr" }.Select(n => signal.Element(n)?.Value));
        Assert.Equal([$"InvalidRead {MemcheckJson.Line("null_deref.c", "LINE_DEREF")}"], KindsAtLines(ours, "null_deref.c"));
        AssertSameStructure(theirs, ours, "null_deref.c", context);
    }

    [Fact]
    public void ProgramKilledBySigterm_LeavesACompleteXmlWithItsLeaks()
    {
        string xml = Path.Combine(Scratch.NewDirectory("xml-sigterm"), "report.xml");
        var start = new ProcessStartInfo(MemcheckLauncher.Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])["--leak-check=full", "--xml", xml, "--", CaseBinaries.Get("terminate_me"), "pause"]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Assert.Equal("ready", process.StandardOutput.ReadLine());
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])) kill.WaitForExit();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"memcheck did not end after SIGTERM\n{stderr.Result}");
        }
        string context = stderr.Result;
        Assert.True(process.ExitCode == 128 + 15, $"exit {process.ExitCode}\n{context}");
        XDocument document = Load(xml, context);

        string[] top = document.Root!.Elements().Select(e => e.Name.LocalName).ToArray();
        Assert.Equal(["error", "fatal_signal", "status", "error", "errorcounts", "suppcounts"], top[^6..]);
        Assert.Equal(["15", "SIGTERM"], new[] { "signo", "signame" }.Select(n => document.Root.Element("fatal_signal")!.Element(n)!.Value));
        int overflow = MemcheckJson.Line("terminate_me.c", "LINE_OVERFLOW");
        int allocation = overflow - 1;
        Assert.Equal([$"InvalidWrite {overflow}", $"Leak_DefinitelyLost {allocation}"], KindsAtLines(document, "terminate_me.c"));
        Assert.Equal("100", document.Root.Elements("error").Last().Element("xwhat")!.Element("leakedbytes")!.Value);
    }

    /// <summary>
    /// Valgrind's structure: the top-level sequence (runs of errors as one), for each kind both
    /// write the set of element paths under its errors, errorcounts' paths; the same (kind, line)
    /// set; and for each error at the same kind and line, the sequence of its fields (a run of
    /// auxwhat lines as one: Valgrind says more of stack addresses), its wording where it does not
    /// name addresses or a system call's parameter, and the leaked bytes and blocks.
    /// </summary>
    private static void AssertSameStructure(XDocument theirs, XDocument ours, string source, string context)
    {
        Assert.Equal(TopLevel(theirs), TopLevel(ours));
        foreach (string kind in Kinds(theirs).Intersect(Kinds(ours)))
            Assert.True(Paths(theirs, kind).SetEquals(Paths(ours, kind)), $"{kind}: valgrind's paths {Describe(Paths(theirs, kind))}, ours {Describe(Paths(ours, kind))}\n{context}");
        Assert.True(Paths(theirs.Root!.Element("errorcounts")!).SetEquals(Paths(ours.Root!.Element("errorcounts")!)), $"errorcounts differ\n{context}");

        Assert.Equal(KindsAtLines(theirs, source).Order(), KindsAtLines(ours, source).Order());
        foreach (XElement their in theirs.Root!.Elements("error"))
        {
            string? at = KindAtLine(their, source);
            if (at is null) continue;
            XElement our = ours.Root!.Elements("error").First(e => KindAtLine(e, source) == at);
            Assert.True(Fields(their).SequenceEqual(Fields(our)), $"{at}: valgrind's fields {string.Join(",", Fields(their))}, ours {string.Join(",", Fields(our))}\n{context}");
            Assert.Equal(Wording(their), Wording(our));
            foreach (string leaked in new[] { "leakedbytes", "leakedblocks" })
                Assert.Equal(their.Element("xwhat")?.Element(leaked)?.Value, our.Element("xwhat")?.Element(leaked)?.Value);
        }
    }

    private static string[] TopLevel(XDocument document) =>
        Collapsed(document.Root!.Elements().Select(e => e.Name.LocalName)).ToArray();

    private static IEnumerable<string> Kinds(XDocument document) => document.Root!.Elements("error").Select(e => e.Element("kind")!.Value).Distinct();

    /// <summary>Every element path under the errors of <paramref name="kind"/> ("stack/frame/ip", "auxwhat").</summary>
    private static HashSet<string> Paths(XDocument document, string kind) =>
        document.Root!.Elements("error").Where(e => e.Element("kind")!.Value == kind).SelectMany(Paths).ToHashSet();

    private static HashSet<string> Paths(XElement element) =>
        element.Descendants().Select(d => string.Join('/', d.AncestorsAndSelf().TakeWhile(a => a != element).Reverse().Select(a => a.Name.LocalName))).ToHashSet();

    private static IEnumerable<string> Fields(XElement error) => Collapsed(error.Elements().Select(e => e.Name.LocalName));

    private static IEnumerable<string> Collapsed(IEnumerable<string> names)
    {
        string? last = null;
        foreach (string name in names)
        {
            if (name != last) yield return name;
            last = name;
        }
    }

    /// <summary>What an error says, without what differs by nature: addresses, loss record numbers, a system call's parameter name.</summary>
    private static string[] Wording(XElement error)
    {
        string what = error.Element("what")?.Value ?? error.Element("xwhat")!.Element("text")!.Value;
        what = Regex.Replace(what.Trim(), @" in loss record \d+ of \d+$", "");
        what = Regex.Replace(what, @"^Syscall param \S+ ", "Syscall param _ ");
        IEnumerable<string> aux = error.Elements("auxwhat").Select(a => a.Value);
        // Where valgrind places the address in a heap block, so must we; of other memory it knows more (thread stacks).
        if (!aux.All(a => a.Contains("a block of size", StringComparison.Ordinal) || a == "Block was alloc'd at")) aux = ["(not a heap block)"];
        return [what, .. aux.Select(a => Regex.Replace(a, "0x[0-9a-fA-F]+", "0x_"))];
    }

    private static string Describe(IEnumerable<string> paths) => string.Join(" ", paths.Order());

    /// <summary>"Kind LINE" of each error whose stack passes through <paramref name="source"/> (its innermost frame there).</summary>
    private static string[] KindsAtLines(XDocument document, string source) =>
        document.Root!.Elements("error").Select(e => KindAtLine(e, source)).OfType<string>().ToArray();

    private static string? KindAtLine(XElement error, string source)
    {
        XElement? frame = error.Element("stack")!.Elements("frame").FirstOrDefault(f => f.Element("file")?.Value == source);
        return frame is null ? null : $"{error.Element("kind")!.Value} {frame.Element("line")!.Value}";
    }

    private static string[] Expected(string source, string[] expected) => expected.Select(e =>
    {
        string[] parts = e.Split(' ');
        return $"{parts[0]} {MemcheckJson.Line(source, parts[1])}";
    }).ToArray();

    /// <summary>(function, file, line) of each frame, from the JSON and from the XML (dir and file joined).</summary>
    private static string[] Frames(JsonElement stack) => stack.EnumerateArray().Select(f =>
        $"{(f.TryGetProperty("function", out var fn) ? fn.GetString() : "")} {(f.TryGetProperty("file", out var file) ? file.GetString() : "")}:{(f.TryGetProperty("line", out var line) ? line.GetInt32() : 0)}").ToArray();

    private static string[] Frames(XElement stack) => stack.Elements("frame").Select(f =>
        $"{f.Element("fn")?.Value ?? ""} {(f.Element("file") is XElement file ? Path.Combine(f.Element("dir")?.Value ?? "", file.Value) : "")}:{f.Element("line")?.Value ?? "0"}").ToArray();

    /// <summary>Runs memcheck with --xml and returns the document (checked against the protocol's shape).</summary>
    private static (XDocument Document, string Context) Memcheck(string program, params string[] options)
    {
        string xml = Path.Combine(Scratch.NewDirectory("xml-memcheck"), "report.xml");
        RunResult run = MemcheckLauncher.Run([.. options, "--xml", xml, "--", program], "line\n"u8.ToArray());
        string context = $"{run.CommandLine}\nexit {run.ExitCode}\n{run.StderrText}";
        return (Load(xml, context), context);
    }

    /// <summary>Runs valgrind's memcheck on <paramref name="program"/> with --xml=yes --leak-check=full; its file passes the same shape checks.</summary>
    private static XDocument Valgrind(string program)
    {
        string xml = Path.Combine(Scratch.NewDirectory("xml-valgrind"), "valgrind.xml");
        RunResult run = ProcessRunner.Run("valgrind", ["--xml=yes", $"--xml-file={xml}", "--leak-check=full", program], "line\n"u8.ToArray());
        return Load(xml, $"{run.CommandLine}\nexit {run.ExitCode}\n{run.StderrText}");
    }

    private static XDocument Load(string path, string context)
    {
        Assert.True(File.Exists(path), $"no {path}\n{context}");
        XDocument document = XDocument.Load(path);
        List<string> problems = ValgrindXmlShape.Problems(document);
        Assert.True(problems.Count == 0, $"{path} breaks protocol 4: {string.Join("; ", problems)}\n{context}");
        return document;
    }
}
